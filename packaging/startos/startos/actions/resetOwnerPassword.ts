import { utils } from '@start9labs/start-sdk'
import { sdk } from '../sdk'
import { baseEnv, mounts, runAs } from '../utils'

// The owner's name is asked for: Ledgersys may have several accounts, and
// the one locked out knows which it is.
const { InputSpec, Value } = sdk
const input = InputSpec.of({
  username: Value.text({
    name: 'Username',
    description: 'The account whose password to reset (the owner made at setup).',
    required: true,
    default: null,
  }),
})

export const resetOwnerPassword = sdk.Action.withInput(
  'reset-owner-password',
  async () => ({
    name: 'Reset owner password',
    description: 'Gives an account a new random password, ends its sessions and clears a login lockout.',
    warning: 'The old password stops working at once.',
    allowedStatuses: 'any',
    group: null,
    visibility: 'enabled',
  }),
  input,
  async () => null,
  async ({ effects, input }) => {
    const password = utils.getDefaultString({ charset: 'a-z,A-Z,2-9', len: 24 })
    // The password goes in on standard input (`--password-file -`), never
    // as an argument or a file left behind.
    await sdk.SubContainer.withTemp(effects, { imageId: 'main' }, mounts, 'reset-password', (sub) =>
      sub.execFail(
        ['/ledgersys', 'admin', 'reset-password', '--username', input.username, '--password-file', '-'],
        { env: baseEnv, user: runAs, input: password },
      ),
    )
    return {
      version: '1',
      title: 'Password reset',
      message: 'Sign in with this password, then change it in Account. It is not shown again.',
      result: { type: 'single', value: password, copyable: true, qr: false, masked: true },
    }
  },
)
