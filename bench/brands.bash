# bench/run's `brands` section (sourced by bench/run, which provides start_roomgate,
# capture, record, rss_kb, stop…): how many brands one instance holds, with what memory
# and start-up time. BRANDS brands (1,000 by default) share the catalog: one in ten with
# its own static folder, one in ten with its own template (error.html), one in ten with a
# room list; each has two hosts, its own name, colour and logo URL. Figures: RSS with no
# brands and with BRANDS brands at start, after one room page on every brand's host (its
# rendered page kept for the next visitor), and the start-up to the first 200.
BRANDS=${BRANDS:-1000}

# write_brands N DIR: DIR/brands.toml with N brands (and their overlay folders).
write_brands() {
  python3 - "$1" "$2" <<'PY'
import pathlib, sys
n, root = int(sys.argv[1]), pathlib.Path(sys.argv[2])
lines = []
for i in range(n):
    b = f"b{i:04d}"
    lines += ["[[brands]]", f'id = "{b}"',
              f'hosts = ["{b}.example", "{b}.localhost"]',
              f'public_url = "https://{b}.example"', f'site_name = "Brand {i}"',
              f'logo_url = "/static/img/{b}.svg"', f'primary_color = "#{(i * 2654435761) % 0xffffff:06x}"']
    if i % 10 == 1:
        d = root / b / "static" / "img"
        d.mkdir(parents=True)
        (d / f"{b}.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>')
        lines.append(f'static_dir = "{root / b / "static"}"')
    if i % 10 == 2:
        d = root / b / "templates"
        d.mkdir(parents=True)
        (d / "error.html").write_text(pathlib.Path("templates/error.html").read_text().replace("card__text", "card__text brand-text"))
        lines.append(f'templates_dir = "{d}"')
    if i % 10 == 3:
        lines.append('rooms = ["123-*", "234-234-234"]')
    lines.append("")
(root / "brands.toml").write_text("\n".join(lines))
PY
}

bench_brands() {
  log "brands: RSS and start-up with 0 and $BRANDS brands (catalog)"
  mkdir -p "$TMP/brands"
  write_brands "$BRANDS" "$TMP/brands"
  start_roomgate no-brands
  curl -fs -o /dev/null "http://127.0.0.1:$RPORT/room/123-123-123" || die "no room page"
  sleep 1
  local rss_none
  rss_none=$(rss_kb "$RPID")
  stop "$RPID"

  local t0 t1
  t0=$(date +%s%N)
  start_roomgate brands ROOMGATE_CONFIG_FILE="$TMP/brands/brands.toml"
  t1=$(date +%s%N)
  sleep 1
  local rss_start rss_pages
  rss_start=$(rss_kb "$RPID")
  # One page per brand, on its own host: a catalog room every brand serves.
  python3 - "$RPORT" "$BRANDS" <<'PY' || die "a brand's page did not answer 200 with its name"
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
for i in range(n):
    conn.request("GET", "/room/123-123-123", headers={"Host": f"b{i:04d}.example"})
    res = conn.getresponse()
    body = res.read()
    if res.status != 200 or f"Brand {i}<".encode() not in body and f"Brand {i} ".encode() not in body:
        sys.exit(f"b{i:04d}: {res.status}")
PY
  sleep 1
  rss_pages=$(rss_kb "$RPID")
  log "  RSS ${rss_none} kB without brands; with $BRANDS: ${rss_start} kB at start, ${rss_pages} kB after a page on each; start-up $(((t1 - t0) / 1000000)) ms"
  record brands "{\"brands\":$BRANDS,\"rss_none_kb\":$rss_none,\"rss_start_kb\":$rss_start,\"rss_pages_kb\":$rss_pages,\"startup_ms\":$(((t1 - t0) / 1000000))}"
  stop "$RPID"
}
