// Every IPC channel name lives here, so main and preload cannot drift apart and a reviewer
// sees the whole renderer-facing surface in one place. One channel per request, nothing generic.

export const IpcChannel = {
  appInfo: 'app.info',
} as const

export type IpcChannelName = (typeof IpcChannel)[keyof typeof IpcChannel]
