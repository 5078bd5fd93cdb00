# Sourced by umbrelOS before the app starts: no exit, cd or set here.
# BTCPay Server is optional and exports nothing of its own; when it is
# installed, Ledgersys reaches its API over Umbrel's network at the web
# container's name, and BTCPay reaches Ledgersys' webhook the same way.
export APP_LEDGERSYS_BTCPAY_URL=""
if "${UMBREL_ROOT}/scripts/app" ls-installed 2>/dev/null | grep --quiet '^btcpay-server$'; then
  export APP_LEDGERSYS_BTCPAY_URL="http://btcpay-server_web_1:3003"
fi
