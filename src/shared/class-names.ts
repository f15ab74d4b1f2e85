// Class names of the image datasets the studio recognises, by label. Both sides need them: the
// host names the classes of files that look like one of these sets, and the form offers them as
// presets the user can pick and edit.
import type { KNOWN_CLASS_SETS } from './protocol-data'

export type KnownClassSet = (typeof KNOWN_CLASS_SETS)[number]

export const KNOWN_CLASS_NAMES: Record<KnownClassSet, readonly string[]> = {
  // Zalando's Fashion-MNIST README, labels 0–9.
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
}

export const KNOWN_CLASS_LABELS: Record<KnownClassSet, string> = {
  'fashion-mnist': 'Fashion-MNIST',
  mnist: 'MNIST digits',
}
