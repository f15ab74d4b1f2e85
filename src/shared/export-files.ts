// The files of a PyTorch export (host/export/index.ts makes them), named once for the code that
// offers them and the tests that check a download: the model, its weights, the data and a training
// script always; with a checkpoint, the optimiser and sampler state train.py --continue reads.
export const PYTORCH_BASE_FILES = ['model.py', 'weights.safetensors', 'train.py', 'data.csv', 'studio_watch.py'] as const
export const PYTORCH_CHECKPOINT_FILES = ['optimizer.safetensors', 'train_state.json'] as const
/** Every file of an export from a checkpoint, sorted. */
export const PYTORCH_EXPORT_FILES: readonly string[] = [...PYTORCH_BASE_FILES, ...PYTORCH_CHECKPOINT_FILES].sort()
