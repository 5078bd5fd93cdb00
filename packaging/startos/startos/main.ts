import { sdk } from './sdk'
import { baseEnv, mounts, runAs, uiPort } from './utils'

export const main = sdk.setupMain(async ({ effects }) => {
  // The Electrum server, when electrs is installed: Ledgersys sets it as
  // its chain source at start (chain.electrum), so nobody types an address.
  const electrum = await sdk.host
    .getBridgeAddress(effects, { packageId: 'electrs', hostId: 'main', internalPort: 50001, ssl: false })
    .const()
    .catch(() => null)
  const env: Record<string, string> = { ...baseEnv }
  if (electrum) env.LEDGERSYS_CHAIN_ELECTRUM = electrum
  // A consistent copy of the database for backups taken while it runs.
  env.LEDGERSYS_SNAPSHOT_INTERVAL = '30m'

  const container = await sdk.SubContainer.of(effects, { imageId: 'main' }, mounts, 'ledgersys')
  return sdk.Daemons.of(effects).addDaemon('ledgersys', {
    subcontainer: container,
    exec: { command: ['/ledgersys', 'serve'], env, user: runAs },
    ready: {
      display: 'Web Interface',
      fn: () =>
        sdk.healthCheck.checkWebUrl(effects, `http://127.0.0.1:${uiPort}/readyz`, {
          successMessage: 'Ledgersys is ready',
          errorMessage: 'Ledgersys is not answering /readyz',
        }),
    },
    requires: [],
  })
})
