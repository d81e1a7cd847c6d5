#!/bin/sh
# Installs ember the way a package would:
#   ./install.sh                              # PREFIX=/usr/local
#   PREFIX=/usr DESTDIR=/tmp/pkgroot ./install.sh
# Variables: PREFIX, DESTDIR (staging root), BINDIR, MANDIR, UNITDIR, DOCDIR, and BIN (the
# binary to install; default target/release/ember, built with cargo when missing).
# Then: systemctl daemon-reload && systemctl enable --now ember
set -eu
cd "$(dirname "$0")"
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/ember}
BIN=${BIN:-target/release/ember}
[ -x "$BIN" ] || cargo build --release --quiet
install -Dm755 "$BIN" "$DESTDIR$BINDIR/ember"
mkdir -p "$DESTDIR$UNITDIR"
sed "s|/usr/bin/ember|$BINDIR/ember|g" units/ember.service > "$DESTDIR$UNITDIR/ember.service"
chmod 644 "$DESTDIR$UNITDIR/ember.service"
install -Dm644 man/ember.8 "$DESTDIR$MANDIR/man8/ember.8"
install -Dm644 man/ember-desired-state.5 "$DESTDIR$MANDIR/man5/ember-desired-state.5"
# shell completions, where each shell looks for them under PREFIX (as the package puts them)
install -Dm644 completions/ember.bash "$DESTDIR$PREFIX/share/bash-completion/completions/ember"
install -Dm644 completions/_ember "$DESTDIR$PREFIX/share/zsh/vendor-completions/_ember"
install -Dm644 completions/ember.fish "$DESTDIR$PREFIX/share/fish/vendor_completions.d/ember.fish"
install -Dm644 units/ember.service.d/notify-reload.conf "$DESTDIR$DOCDIR/notify-reload.conf"
install -Dm644 examples/cinder.conf "$DESTDIR$DOCDIR/examples/cinder.conf"
install -Dm644 examples/desired-state.yaml "$DESTDIR$DOCDIR/examples/desired-state.yaml"
echo "installed ember into ${DESTDIR:-}$PREFIX (unit: $DESTDIR$UNITDIR/ember.service)"
