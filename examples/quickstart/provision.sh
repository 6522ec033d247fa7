#!/bin/sh
# Installs nginx, serves a page and turns off nginx's version banner.
# hallmark runs this on the machine as root (sudo), then the checks in
# test/integration/default/ prove it before any image is kept.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends nginx
cat > /var/www/html/index.html <<'HTML'
<!doctype html>
<title>hallmark</title>
<h1>built and verified by hallmark</h1>
HTML
# Debian 13's nginx.conf already sets server_tokens; a second one is refused.
sed -i -E 's/^([[:space:]]*)(server_tokens[[:space:]])/\1# \2/' /etc/nginx/nginx.conf
echo 'server_tokens off;' > /etc/nginx/conf.d/hardening.conf
nginx -t
systemctl enable nginx
systemctl restart nginx
