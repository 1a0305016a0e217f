# Sourced by the install scripts (it defines a function; running it does nothing).
# apt_ensure NAME PACKAGE...: installs with apt-get those of the Debian packages not yet installed,
# logging to /tmp/lamina-NAME-apt.log and speaking through the caller's `say`.
# Returns 0 when all are installed, 1 when some are missing and there is no root apt-get to
# install them, 2 when apt-get failed (its last lines go to stderr). APT_MISSING holds the
# packages that were missing.
apt_ensure() {
  local name=$1 p started log
  shift
  log=/tmp/lamina-$name-apt.log
  APT_MISSING=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || APT_MISSING+=("$p")
  done
  [ ${#APT_MISSING[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  say "apt-get install ${APT_MISSING[*]}"
  started=$SECONDS
  if ! (timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${APT_MISSING[@]}") >"$log" 2>&1; then
    tail -5 "$log" >&2
    return 2
  fi
  say "system packages installed in $((SECONDS - started)) s"
}
