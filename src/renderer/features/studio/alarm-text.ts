// How an alarm reads in the studio: the host's message starts with its step ("step 52: exploding
// gradients — …"), which the Alarms card and the toast already show beside it.
import type { TrainAlarm } from '../../stores/metrics-buffers'

const KIND_TITLES: Record<TrainAlarm['kind'], string> = {
  nan: 'NaN',
  inf: 'Infinity',
  exploding: 'Exploding gradients',
  vanishing: 'Vanishing gradients',
}

/** The message without its leading "step N:" (any other text is left as it is). */
export function alarmDetail(alarm: Pick<TrainAlarm, 'message' | 'step'>): string {
  const prefix = `step ${alarm.step}:`
  return alarm.message.startsWith(prefix) ? alarm.message.slice(prefix.length).trimStart() : alarm.message
}

/** A headline for the toast: "Exploding gradients at step 52 in layers.2". */
export function alarmTitle(alarm: Pick<TrainAlarm, 'kind' | 'step' | 'layer'>): string {
  return `${KIND_TITLES[alarm.kind]} at step ${alarm.step}${alarm.layer ? ` in ${alarm.layer}` : ''}`
}
