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
# Our hardening lives in a file of its own. Debian 13's packaged nginx.conf already
# sets server_tokens (Debian 12's has it commented out): a second one is a duplicate
# that nginx refuses, so the packaged line is commented out first.
sed -i -E 's/^([[:space:]]*)(server_tokens[[:space:]])/\1# \2/' /etc/nginx/nginx.conf
cat > /etc/nginx/conf.d/hardening.conf <<'CONF'
server_tokens off;
CONF
nginx -t
systemctl enable nginx
systemctl restart nginx
