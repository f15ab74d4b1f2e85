// Issue #14's two nets against PyTorch on one thread, the MNIST-size net of the main table and the
// wide one (2-(1024×16)-2 relu, Adam, batch 32), in alternating rounds (ours as shipped, ours with
// the matmul kept on one thread, then PyTorch) so load from other processes on a shared machine
// falls on all alike; each figure is the median over the rounds, the ratios are of those medians. On a loaded machine the scheduler shares the cores
// per thread, so ours with its helper thread gets a larger share than a one-thread PyTorch: the
// one-thread figure is the like-for-like one there.
import { MLPS, WIDE_MLPS, median, type TimingOptions } from './common.js'
import { benchTrain } from './ours.js'
import { benchTorch } from './torch.js'

export interface WideNet {
  name: string
  /** Steps/s per round, ours and PyTorch. */
  ours: number[]
  /** Ours with every matmul on the calling thread. */
  ours1t: number[]
  torch: number[]
  ratio: number
  ratio1t: number
  oursLoss: number
  torchLoss: number
}

export interface WideResult {
  rounds: number
  nets: WideNet[]
  torchSkipped?: string
}

/** `oneThread(true)` keeps our matmuls on one thread until `oneThread(false)`. */
export async function benchWide(
  timing: Required<TimingOptions>,
  rounds: number,
  progress: (msg: string) => void,
  oneThread: (on: boolean) => void,
): Promise<WideResult> {
  const specs = [MLPS[1], ...WIDE_MLPS]
  const nets: WideNet[] = specs.map((s) => ({
    name: s.name,
    ours: [],
    ours1t: [],
    torch: [],
    ratio: NaN,
    ratio1t: NaN,
    oursLoss: NaN,
    torchLoss: NaN,
  }))
  let torchSkipped: string | undefined
  for (let r = 0; r < rounds; r++) {
    for (const [i, spec] of specs.entries()) {
      const shipped = async (): Promise<void> => {
        progress(`vs PyTorch round ${r + 1}/${rounds}: ours, ${spec.name}`)
        const t = await benchTrain(spec, timing)
        nets[i].ours.push(t.steps.perSec)
        nets[i].oursLoss = t.loss
      }
      const single = async (): Promise<void> => {
        progress(`vs PyTorch round ${r + 1}/${rounds}: ours, matmul on one thread, ${spec.name}`)
        oneThread(true)
        nets[i].ours1t.push((await benchTrain(spec, timing)).steps.perSec)
        oneThread(false)
      }
      // Which of the two goes first alternates by round: the first after PyTorch's round meets a
      // colder machine (caches, the allocator), and always the same one first biased the ratio.
      for (const run of r % 2 === 0 ? [shipped, single] : [single, shipped]) await run()
    }
    if (torchSkipped) continue
    progress(`vs PyTorch round ${r + 1}/${rounds}: torch (1 thread), both nets`)
    const torch = benchTorch(timing, specs, [])
    if ('skipped' in torch) {
      torchSkipped = torch.skipped
      continue
    }
    torch.result.train.forEach((t, i) => {
      nets[i].torch.push(t.steps.perSec)
      nets[i].torchLoss = t.loss
    })
  }
  for (const n of nets) {
    n.ratio = median(n.ours) / median(n.torch)
    n.ratio1t = median(n.ours1t) / median(n.torch)
  }
  return { rounds, nets, torchSkipped }
}

export function printWide(r: WideResult, fmt: (v: number) => string): void {
  console.log(`\nOurs vs PyTorch (1 thread) in alternating rounds: training steps/s, float32, median of ${r.rounds} round(s)`)
  for (const n of r.nets) {
    const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—')
    console.log(
      `  ${n.name}: ours ${fmt(median(n.ours))}, ours-1t ${fmt(median(n.ours1t))}, torch-1t ${fmt(n.torch.length ? median(n.torch) : NaN)}` +
        ` · ours/torch-1t ${x(n.ratio)}, ours-1t/torch-1t ${x(n.ratio1t)}  (last loss ${n.oursLoss.toFixed(3)} / ${n.torchLoss.toFixed(3)})`,
    )
  }
  if (r.torchSkipped) console.log(`Note (torch-1t): ${r.torchSkipped}`)
}
