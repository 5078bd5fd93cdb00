import { VersionInfo } from '@start9labs/start-sdk'

export const v0_1_0_0 = VersionInfo.of({
  version: '0.1.0:0',
  releaseNotes: 'The first package of Ledgersys for StartOS.',
  migrations: {},
})
