import { describe, expect, it } from 'vitest'
import { data } from '../../engine'
import { SessionSpec } from '../../shared/protocol'
import { BUNDLED_DATASETS } from '../../shared/protocol-data'
import { prepareData } from '../data-source'
import { planLoss } from '../setup'
import { Trainer } from '../trainer'
import { bundledDataset, listBundled } from './bundled'

describe('bundled datasets', () => {
  it('each loads with its published shape, classes and class balance', () => {
    const expected = {
      iris: {
        n: 150,
        f: 4,
        task: 'multiclass',
        classes: ['setosa', 'versicolor', 'virginica'],
        counts: [50, 50, 50],
        target: 'species',
        first: 'sepal_length_cm',
      },
      wine: {
        n: 178,
        f: 13,
        task: 'multiclass',
        classes: ['cultivar_1', 'cultivar_2', 'cultivar_3'],
        counts: [59, 71, 48],
        target: 'cultivar',
        first: 'alcohol',
      },
      'breast-cancer': {
        n: 569,
        f: 30,
        task: 'binary',
        classes: ['malignant', 'benign'],
        counts: [212, 357],
        target: 'diagnosis',
        first: 'mean_radius',
      },
      digits: {
        n: 1797,
        f: 64,
        task: 'multiclass',
        classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
        counts: [178, 182, 177, 183, 181, 182, 181, 179, 174, 180],
        target: 'digit',
        first: 'pixel_0_0',
      },
    } as const
    for (const name of BUNDLED_DATASETS) {
      const e = expected[name]
      const b = bundledDataset(name)
      expect(b.dataset, name).toMatchObject({ n: e.n, nFeatures: e.f, task: e.task, nClasses: e.classes.length })
      expect(b.classNames).toEqual(e.classes)
      expect(b.targetName).toBe(e.target)
      expect(b.dataset.featureNames[0]).toBe(e.first)
      expect(data.classCounts(b.dataset)).toEqual(e.counts)
      expect(b.description).toMatch(/CC BY 4\.0/)
    }
    // Spot values straight from the source files: iris row 1, wine row 1's proline, digits row 1's pixel (0,2).
    expect(Array.from(bundledDataset('iris').dataset.x.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround))
    expect(bundledDataset('wine').dataset.x[12]).toBe(1065)
    expect(bundledDataset('digits').dataset.x[2]).toBe(5)
  })

  it('host.hello lists all four with label, task, size and attribution', () => {
    expect(listBundled().map(({ name, task, rows, features, classes }) => [name, task, rows, features, classes])).toEqual([
      ['iris', 'multiclass', 150, 4, 3],
      ['wine', 'multiclass', 178, 13, 3],
      ['breast-cancer', 'binary', 569, 30, 2],
      ['digits', 'multiclass', 1797, 64, 10],
    ])
    for (const d of listBundled()) expect(d.label.length).toBeGreaterThan(3)
  })

  it('a small MLP learns Iris: at least 90% test accuracy after 300 Adam steps (two splits)', () => {
    for (const seed of [0, 2]) {
      const spec = SessionSpec.parse({
        model: { hidden: [16], activation: 'tanh' },
        data: { source: 'bundled', name: 'iris', seed },
        optimizer: { type: 'adam', lr: 0.01 },
        train: { batchSize: 16, seed: 1 },
        backend: 'cpu',
      })
      const d = prepareData(spec.data, null)
      expect([d.train.n, d.test.n]).toEqual([105, 45])
      const t = new Trainer(d, planLoss(spec.model.loss, d.train.task, d.train.nClasses, 'iris'), spec)
      expect(t.evaluate()!.testAccuracy!).toBeLessThan(0.8)
      for (let i = 0; i < 300; i++) expect(t.trainStep(false).ok).toBe(true)
      expect(t.evaluate()!.testAccuracy, `split seed ${seed}`).toBeGreaterThanOrEqual(0.9)
    }
  })
})
