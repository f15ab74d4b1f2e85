// The gradient-flow lab's model against PyTorch (issue #13): 784-256×4-10 relu with BatchNorm1d
// between each hidden Linear and its ReLU and residual sums on hidden layers 2-4, next to the same
// sizes without blocks, so its ours/PyTorch ratio reads beside the plain net's. The four figures
// run in alternating rounds (ours plain, ours lab, PyTorch both) so load from other processes on a
// shared machine falls on all of them alike; each figure is the median over the rounds.
import { LAB_MLPS, median, type TimingOptions } from './common.js'
import { benchTrain } from './ours.js'
import { benchTorch } from './torch.js'

export interface LabNet {
  name: string
  /** Steps/s per round (each the median of that round's repeats), ours and PyTorch. */
  ours: number[]
  torch: number[]
  /** Last training loss of the last round, a check that each step really trained. */
  oursLoss: number
  torchLoss: number
}

export interface LabResult {
  rounds: number
  nets: LabNet[]
  /** ours/PyTorch per net: median ours over median PyTorch (the table's figure). */
  ratios: number[]
  /** The lab net's ratio over the plain net's (issue #13 asks ≥ 0.90), and the same per round. */
  labOverPlain: number
  labOverPlainPerRound: number[]
  torchVersion: string | null
  /** What libblas.so.3 resolves to for torch (see run.ts's blasNote). */
  torchBlas: string | null
  /** Why there is no PyTorch half, when there is none. */
  torchSkipped?: string
}

export async function benchLab(timing: Required<TimingOptions>, rounds: number, progress: (msg: string) => void): Promise<LabResult> {
  const nets: LabNet[] = LAB_MLPS.map((s) => ({ name: s.name, ours: [], torch: [], oursLoss: NaN, torchLoss: NaN }))
  let torchVersion: string | null = null
  let torchBlas: string | null = null
  let torchSkipped: string | undefined
  for (let r = 0; r < rounds; r++) {
    for (const [i, spec] of LAB_MLPS.entries()) {
      progress(`lab round ${r + 1}/${rounds}: ours ${spec.name.trim()}`)
      const t = await benchTrain(spec, timing)
      nets[i].ours.push(t.steps.perSec)
      nets[i].oursLoss = t.loss
    }
    if (torchSkipped) continue
    progress(`lab round ${r + 1}/${rounds}: torch (1 thread), both nets`)
    const torch = benchTorch(timing, LAB_MLPS, [])
    if ('skipped' in torch) {
      torchSkipped = torch.skipped
      continue
    }
    torchVersion = torch.version
    torchBlas = torch.blas
    torch.result.train.forEach((t, i) => {
      nets[i].torch.push(t.steps.perSec)
      nets[i].torchLoss = t.loss
    })
  }
  const ratios = nets.map((n) => median(n.ours) / median(n.torch))
  const [plain, lab] = nets
  const labOverPlainPerRound = plain.torch.map((_, r) => lab.ours[r] / lab.torch[r] / (plain.ours[r] / plain.torch[r]))
  return {
    rounds,
    nets,
    ratios,
    labOverPlain: ratios[1] / ratios[0],
    labOverPlainPerRound,
    torchVersion,
    torchBlas,
    torchSkipped,
  }
}
