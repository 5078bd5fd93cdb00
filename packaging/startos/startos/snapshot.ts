import { T } from '@start9labs/start-sdk'
import { sdk } from './sdk'
import { baseEnv, mounts, runAs } from './utils'

/** Runs `ledgersys snapshot` and returns the path it wrote. */
export async function writeSnapshot(effects: T.Effects): Promise<string> {
  const result = await sdk.SubContainer.withTemp(effects, { imageId: 'main' }, mounts, 'snapshot', (sub) =>
    sub.execFail(['/ledgersys', 'snapshot'], { env: baseEnv, user: runAs }),
  )
  return String(result.stdout).trim()
}
