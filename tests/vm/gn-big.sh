#!/bin/sh
# gn-big: prints about 12 MiB, more than libvirt passes back from the guest agent (10 MiB), so the
# libvirt test can see how guest-nettune-host reports an oversized reply.
head -c 12582912 /dev/zero | tr '\0' 'x'
