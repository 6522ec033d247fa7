#!/usr/bin/env bash
# Installs the system packages hallmark and its tests use (Debian 12, as root).
# Used by scripts/quickstart.sh and .ci/run, so both stay the same.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
# qemu + qemu-img: the embedded default's VMs; debootstrap, util-linux (losetup,
# sfdisk, partx, fstrim), e2fsprogs: base images; genisoimage: cloud-init
# seeds; openssh: the test sshd and ssh-keygen/keyscan; ansible and
# python3-testinfra: the Ansible provisioner and testinfra verifier; busybox
# and dash: the spec verifier's shells; curl: HTTP checks; ruby-serverspec:
# bench/verify's comparison; chromium: renders the HTML report in tests; tmux:
# the terminal view's test reads the screen of a real pseudo-terminal.
$SUDO apt-get install -y -q --no-install-recommends \
  qemu-system-x86 qemu-utils debootstrap util-linux fdisk e2fsprogs dosfstools \
  genisoimage cloud-image-utils openssh-server openssh-client sudo \
  ansible python3-testinfra python3-pytest busybox dash curl ca-certificates \
  ruby-serverspec chromium tmux
