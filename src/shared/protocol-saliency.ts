// The saliency gallery of image data: test examples the model gets most confidently wrong and
// least confidently right, each with the gradient of its loss and of its predicted class's logit
// with respect to the input pixels (one vector-Jacobian product each, never a Jacobian).
import { z } from 'zod'

const sessionId = z.string().regex(/^s[0-9]{1,9}$/, 'is not a session id')
const num = z.number()
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'is not base64')

/** Most pixels of one image the gallery draws (64×64); larger images are refused with that reason. */
export const SALIENCY_MAX_PIXELS = 4096
/** Most examples of each kind (wrong, right) one reply holds. */
export const SALIENCY_MAX_PER_KIND = 8

export const SaliencyExample = z.strictObject({
  /** 'wrong': among the most confident mistakes; 'right': among the least confident correct answers. */
  kind: z.enum(['wrong', 'right']),
  /** Row of the test split. */
  row: z.number().int().min(0),
  label: z.number().int().min(0),
  predicted: z.number().int().min(0),
  /** What the loss reads for the predicted class (its softmax probability, or sigmoid for one logit). */
  confidence: num,
  /** The raw image, height×width bytes over `pixelRange`, row-major, base64. */
  pixels: base64,
  /** ∂loss/∂input for this example alone (its own loss, not the batch mean), row-major. */
  lossGrad: z.array(num).max(SALIENCY_MAX_PIXELS),
  /** ∂(predicted class's logit)/∂input, row-major. */
  logitGrad: z.array(num).max(SALIENCY_MAX_PIXELS),
})

export const SaliencyResult = z.strictObject({
  sessionId,
  step: z.number().int(),
  height: z.number().int().min(1),
  width: z.number().int().min(1),
  pixelRange: z.tuple([num, num]),
  /** Test rows looked at to choose the examples (an evenly spread sample when the split is large or the model big). */
  examined: z.number().int().min(0),
  /** Of those, how many the model got wrong. */
  wrong: z.number().int().min(0),
  examples: z.array(SaliencyExample).max(2 * SALIENCY_MAX_PER_KIND),
})

export const SALIENCY_REQUESTS = {
  /** For image data (the session's info has an imageShape) with a classification loss; else invalid_payload. */
  'session.saliency': {
    payload: z.strictObject({ sessionId, perKind: z.number().int().min(1).max(SALIENCY_MAX_PER_KIND).default(4) }),
    result: SaliencyResult,
  },
} as const
