#!/bin/sh
# Installs nginx from Debian's mirror and serves a page that names the image.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends nginx
cat > /var/www/html/index.html <<'HTML'
<!doctype html>
<title>hallmark</title>
<h1>built and verified by hallmark</h1>
HTML
cat > /etc/nginx/conf.d/hardening.conf <<'CONF'
server_tokens off;
CONF
systemctl enable nginx
systemctl restart nginx
