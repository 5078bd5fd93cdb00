import { sdk } from '../sdk'
import { backupNow } from './backupNow'
import { resetOwnerPassword } from './resetOwnerPassword'

export const actions = sdk.Actions.of().addAction(resetOwnerPassword).addAction(backupNow)
