# Sourced by CI scripts: need_debian COMMAND PACKAGE installs PACKAGE from Debian when it is not
# installed, then checks that PACKAGE's own file list (dpkg -L) holds bin/COMMAND or sbin/COMMAND
# (debootstrap is /usr/sbin/debootstrap). The check runs whether or not COMMAND was already on the
# PATH, so a wrong pair (a command that only works where someone installed it by hand, from
# another package) fails on every machine.
# shellcheck shell=bash

need_debian() {  # $1: command, $2: the Debian package that has it
  local command="$1" package="$2"
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    echo "installing $package (for $command)"
    if [ -z "${need_debian_apt_updated:-}" ]; then
      apt-get update -qq
      need_debian_apt_updated=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null; then
      echo "need_debian: could not install the Debian package $package (for the command $command)" >&2
      return 1
    fi
  fi
  if ! dpkg -L "$package" | grep -qE "/s?bin/$command\$"; then
    echo "need_debian: the Debian package $package does not provide the command $command" \
      "(dpkg -L $package has no bin/$command or sbin/$command): fix the pair" >&2
    return 1
  fi
  command -v "$command" >/dev/null || {
    echo "need_debian: $package is installed and lists $command, but $command is not on the PATH" >&2
    return 1
  }
}
