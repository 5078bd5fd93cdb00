import { sdk } from './sdk'
import { writeSnapshot } from './snapshot'

// The main volume is copied while Ledgersys may be writing to its live
// database, so a whole, checked copy of it is written first
// (snapshot/ledgersys.sqlite3); that copy is what a restore relies on.
export const { createBackup, restoreInit } = sdk.setupBackups(async () =>
  sdk.Backups.ofVolumes('main').setPreBackup(async (effects) => {
    await writeSnapshot(effects)
  }),
)
