import { sdk } from '../sdk'
import { writeSnapshot } from '../snapshot'

export const backupNow = sdk.Action.withoutInput(
  'make-a-backup-now',
  async () => ({
    name: 'Make a backup now',
    description:
      'Writes a whole, checked copy of the database to snapshot/ledgersys.sqlite3 in the data volume, which StartOS backups carry.',
    warning: null,
    allowedStatuses: 'any',
    group: null,
    visibility: 'enabled',
  }),
  async ({ effects }) => {
    const path = await writeSnapshot(effects)
    return {
      version: '1',
      title: 'Snapshot written',
      message: 'The database was copied and checked. Run a StartOS backup to take it off this server.',
      result: { type: 'single', value: path, copyable: true, qr: false, masked: false },
    }
  },
)
