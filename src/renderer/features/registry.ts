// The studio's views, in tab order. Each view is a component that reads the shared stores; adding
// a view is one entry here (App.vue draws the tabs and keeps every visited view alive).
import type { Component } from 'vue'
import TrainingView from './studio/TrainingView.vue'
import NetworkView from './network/NetworkView.vue'
import GraphView from './graph/GraphView.vue'
import ScalarView from './scalar/ScalarView.vue'
import RunsView from './runs/RunsView.vue'

export interface StudioView {
  id: string
  label: string
  /** One line for the tab's tooltip. */
  hint: string
  component: Component
}

export const VIEWS: StudioView[] = [
  { id: 'studio', label: 'Studio', hint: 'Train a network and watch the loss and gradients', component: TrainingView },
  {
    id: 'network',
    label: 'Network',
    hint: 'Neurons and weights coloured by value or gradient, live; hover for numbers, click a neuron for its map',
    component: NetworkView,
  },
  {
    id: 'graph',
    label: 'Computation graph',
    hint: 'The autograd graph of one training step, with each node’s backward rule',
    component: GraphView,
  },
  {
    id: 'runs',
    label: 'Runs',
    hint: 'Saved runs: rename, tag, delete, export (PyTorch, ONNX, safetensors…), and compare their curves and settings',
    component: RunsView,
  },
  {
    id: 'micrograd',
    label: 'Backprop step by step',
    hint: 'Micrograd mode: step through backward() on a scalar program, one chain-rule step at a time',
    component: ScalarView,
  },
]
