// The bundled real datasets (resources/datasets, attribution in its README.md): their CSV text is
// built into the worker with Vite's `?raw` import, so nothing is looked up on disk at run time.
// Each file is parsed once, on first use.
import { data } from '../../engine'
import type { BUNDLED_DATASETS } from '../../shared/protocol-data'
import breastCancerCsv from '../../../resources/datasets/breast-cancer.csv?raw'
import digitsCsv from '../../../resources/datasets/digits.csv?raw'
import irisCsv from '../../../resources/datasets/iris.csv?raw'
import wineCsv from '../../../resources/datasets/wine.csv?raw'

export type BundledName = (typeof BUNDLED_DATASETS)[number]

export interface BundledInfo {
  name: BundledName
  label: string
  task: data.Task
  rows: number
  features: number
  classes: number
  /** Where it comes from and under which licence, for the UI. */
  description: string
}

interface Def {
  label: string
  csv: string
  target: string
  /** Class names in class-index order (scikit-learn's order). */
  classes: string[]
  source: string
  /** [height, width] when each row is an image's pixels. */
  imageShape?: [number, number]
}

const UCI = 'UCI Machine Learning Repository, CC BY 4.0 (copy from scikit-learn, BSD-3-Clause)'

const DEFS: Record<BundledName, Def> = {
  iris: {
    label: 'Iris',
    csv: irisCsv,
    target: 'species',
    classes: ['setosa', 'versicolor', 'virginica'],
    source: `Iris plants: sepal and petal sizes of three species (R. A. Fisher, 1936). ${UCI}.`,
  },
  wine: {
    label: 'Wine',
    csv: wineCsv,
    target: 'cultivar',
    classes: ['cultivar_1', 'cultivar_2', 'cultivar_3'],
    source: `Wine recognition: chemical analysis of wines from three cultivars (Forina et al., PARVUS). ${UCI}.`,
  },
  'breast-cancer': {
    label: 'Breast cancer (Wisconsin diagnostic)',
    csv: breastCancerCsv,
    target: 'diagnosis',
    classes: ['malignant', 'benign'],
    source: `Breast Cancer Wisconsin (Diagnostic): cell nuclei measurements, malignant or benign (Wolberg, Street, Mangasarian, 1995). ${UCI}.`,
  },
  digits: {
    label: 'Digits (8×8)',
    csv: digitsCsv,
    target: 'digit',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    source: `Optical recognition of handwritten digits: 8×8 images, pixel counts 0–16 (Alpaydin, Kaynak, 1998). ${UCI}.`,
    imageShape: [8, 8],
  },
}

export interface BundledDataset {
  dataset: data.Dataset
  classNames: string[]
  targetName: string
  description: string
  imageShape: [number, number] | null
}

const cache = new Map<BundledName, BundledDataset>()

/** The dataset with its raw (unstandardised) features, in file order. */
export function bundledDataset(name: BundledName): BundledDataset {
  let hit = cache.get(name)
  if (!hit) {
    const def = DEFS[name]
    const table = data.parseCsv(def.csv, `bundled dataset "${name}"`)
    const dataset = data.csvDataset(table, { name, target: def.target, classOrder: def.classes })
    hit = { dataset, classNames: def.classes, targetName: def.target, description: def.source, imageShape: def.imageShape ?? null }
    cache.set(name, hit)
  }
  return hit
}

/** What host.hello lists for each bundled dataset. */
export function listBundled(): BundledInfo[] {
  return (Object.keys(DEFS) as BundledName[]).map((name) => {
    const { dataset, description } = bundledDataset(name)
    return {
      name,
      label: DEFS[name].label,
      task: dataset.task,
      rows: dataset.n,
      features: dataset.nFeatures,
      classes: dataset.nClasses,
      description,
    }
  })
}
