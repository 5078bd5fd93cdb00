import { setupManifest } from '@start9labs/start-sdk'

// The package wraps the project's own multi-arch image (docker/Dockerfile):
// the static binary at /ledgersys and nothing else.
export const manifest = setupManifest({
  id: 'ledgersys',
  title: 'Ledgersys',
  license: 'AGPL-3.0-only',
  packageRepo: 'https://github.com/ledgersys/ledgersys/tree/main/packaging/startos',
  upstreamRepo: 'https://github.com/ledgersys/ledgersys',
  marketingUrl: 'https://ledgersys.org/',
  donationUrl: null,
  docsUrls: ['https://github.com/ledgersys/ledgersys/blob/main/docs/install.md'],
  description: {
    short: 'Bitcoin accounting and taxes from your own node, to the cent',
    long: 'Ledgersys keeps the books of your Bitcoin: wallets followed watch-only through your own node, exchange exports, BTCPay Server income, and cost basis, gains, income and holdings for the US, UK, Germany, Canada and Australia. It never holds a private key and cannot move funds.',
  },
  volumes: ['main'],
  images: {
    main: {
      source: { dockerTag: 'ghcr.io/ledgersys/ledgersys:0.1.0' },
      arch: ['x86_64', 'aarch64'],
    },
  },
  dependencies: {
    bitcoind: {
      description: 'Your own Bitcoin node: the chain Ledgersys reads your wallets from.',
      optional: false,
      metadata: { title: 'Bitcoin Core', icon: 'https://bitcoin.org/img/icons/logotop.svg' },
    },
    electrs: {
      description: 'An Electrum server on your node: when it is installed, Ledgersys syncs wallets through it with nothing to type.',
      optional: true,
      metadata: { title: 'electrs', icon: 'https://bitcoin.org/img/icons/logotop.svg' },
    },
    btcpayserver: {
      description: 'BTCPay Server: merchant income, booked from signed webhooks.',
      optional: true,
      metadata: { title: 'BTCPay Server', icon: 'https://btcpayserver.org/img/btcpay-logo.svg' },
    },
  },
})
