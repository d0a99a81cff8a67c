#!/bin/sh
# Writes Janus's configuration from the environment (secrets never live in the image), then
# runs it. The API is a Unix socket in a volume the application nodes share: reachable by them
# only, never from a network. Media goes over UDP on the host's own addresses (host network).
set -eu
: "${JANUS_API_SECRET:?set TWINSPACE_RTC_JANUS_API_SECRET}"
: "${JANUS_ADMIN_KEY:?set TWINSPACE_RTC_JANUS_ADMIN_KEY}"
conf=/etc/twinspace-janus
lib=/usr/lib/x86_64-linux-gnu/janus
nat=""
if [ -n "${JANUS_PUBLIC_IP:-}" ]; then nat="nat_1_1_mapping = \"$JANUS_PUBLIC_IP\""; fi
mkdir -p "$conf/plugins" "$conf/transports" "$conf/events" "$conf/loggers"
ln -sf "$lib/plugins/libjanus_videoroom.so" "$conf/plugins/"
ln -sf "$lib/transports/libjanus_pfunix.so" "$conf/transports/"
cat > "$conf/janus.jcfg" <<CONF
general: {
  configs_folder = "$conf"
  plugins_folder = "$conf/plugins"
  transports_folder = "$conf/transports"
  events_folder = "$conf/events"
  loggers_folder = "$conf/loggers"
  api_secret = "$JANUS_API_SECRET"
  session_timeout = 60
  # One static event loop per core instead of a thread per handle: 1.6x the forwarded streams
  # per core (docs/PERFORMANCE.md, "A class on the SFU").
  event_loops = ${JANUS_EVENT_LOOPS:-$(nproc)}
}
media: {
  # The UDP range the firewall opens for video (docs/DEPLOY.md).
  rtp_port_range = "${JANUS_RTP_PORTS:-20000-40000}"
}
nat: {
  # Behind a 1:1 NAT (a cloud host), the public address announced in ICE candidates.
  $nat
  ignore_mdns = true
}
CONF
cat > "$conf/janus.transport.pfunix.jcfg" <<CONF
general: {
  enabled = true
  json = "compact"
  path = "/run/janus/janus.sock"
  type = "SOCK_SEQPACKET"
}
admin: {
  admin_enabled = false
}
CONF
cat > "$conf/janus.plugin.videoroom.jcfg" <<CONF
general: {
  admin_key = "$JANUS_ADMIN_KEY"
  lock_rtp_forward = true
}
CONF
rm -f /run/janus/janus.sock
exec janus --configs-folder="$conf" --config="$conf/janus.jcfg"
