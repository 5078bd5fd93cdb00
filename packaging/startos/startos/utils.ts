import { sdk } from './sdk'

/** The port Ledgersys serves its web UI and API on inside the container. */
export const uiPort = 8420
export const uiInterfaceId = 'ui'

/** The data directory: the whole `main` volume. */
export const dataDir = '/data'

export const mounts = sdk.Mounts.of().mountVolume({
  volumeId: 'main',
  subpath: null,
  mountpoint: dataDir,
  readonly: false,
})

/** The image's own user, which owns the data directory. */
export const runAs = '1000:1000'

/** The environment every Ledgersys command in the package runs with. */
export const baseEnv = {
  LEDGERSYS_DATA_DIR: dataDir,
  LEDGERSYS_LISTEN: `0.0.0.0:${uiPort}`,
  LEDGERSYS_LOG_FORMAT: 'json',
}
