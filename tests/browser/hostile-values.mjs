// Hostile values for the query parameters a visitor controls. Each entry is
// `{ label, value }` (sent percent-encoded with encodeURIComponent) or `{ label, raw }`
// (sent exactly as written, for byte sequences that are not valid UTF-8).
//
// Every payload that would run script sets `window.__pwned`; every payload that would
// pollute prototypes sets `polluted`. The tests check that neither ever happens.

const LONG = 10_000;

/** Values tried for every kind of parameter. */
export const COMMON = [
  // Breaking out of the JSON data block or the page script.
  { label: 'script breakout', value: '</script><script>window.__pwned=1</script>' },
  { label: 'script breakout, upper case', value: '</SCRIPT><SCRIPT>window.__pwned=1</SCRIPT>' },
  { label: 'script breakout, space before >', value: '</script ><script >window.__pwned=1</script >' },
  { label: 'script breakout, slash variant', value: '</script/x><script>window.__pwned=1</script>' },
  { label: 'script data escape <!--<script>', value: '<!--<script>window.__pwned=1</script>-->' },
  { label: 'HTML comment opener', value: '<!--' },
  { label: 'HTML comment closer', value: '-->' },
  { label: 'CDATA end', value: ']]>' },
  { label: 'CDATA section with script', value: '<![CDATA[<script>window.__pwned=1</script>]]>' },
  { label: 'SVG script', value: '<svg><script>window.__pwned=1</script></svg>' },
  { label: 'template with script', value: '<template><script>window.__pwned=1</script></template>' },
  // Breaking out of HTML attributes and text.
  { label: 'img onerror', value: '<img src=x onerror="window.__pwned=1">' },
  { label: 'attribute breakout, double quote', value: '"><svg onload=window.__pwned=1>' },
  { label: 'attribute breakout, single quote', value: "'><svg onload=window.__pwned=1>" },
  { label: 'attribute breakout, no quote', value: ' onfocus=window.__pwned=1 autofocus x=' },
  { label: 'attribute breakout into img', value: '"><img src=x onerror=window.__pwned=1>' },
  { label: 'iframe javascript: src', value: '<iframe src="javascript:window.__pwned=1"></iframe>' },
  { label: 'link with javascript: href', value: '<a href="javascript:window.__pwned=1">x</a>' },
  { label: 'base href', value: '<base href="http://localhost:9/">' },
  { label: 'meta refresh', value: '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=1">' },
  { label: 'style block', value: '<style>*{display:none}</style>' },
  { label: 'mXSS math/style', value: '<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=1>' },
  { label: 'noscript breakout', value: '<noscript><p title="</noscript><img src=x onerror=window.__pwned=1>">' },
  { label: 'object data', value: '<object data="javascript:window.__pwned=1"></object>' },
  // Script URLs.
  { label: 'javascript: URL', value: 'javascript:window.__pwned=1' },
  { label: 'javascript: URL, mixed case', value: 'JaVaScRiPt:window.__pwned=1' },
  { label: 'javascript: URL, leading tab', value: '\tjavascript:window.__pwned=1' },
  { label: 'javascript: URL, entity colon', value: 'javascript&colon;window.__pwned=1' },
  { label: 'data: URL with script', value: 'data:text/html,<script>window.__pwned=1</script>' },
  { label: 'vbscript: URL', value: 'vbscript:msgbox(1)' },
  // Entities and escapes that a decoder might turn into markup.
  { label: 'named entities', value: '&lt;script&gt;window.__pwned=1&lt;/script&gt;' },
  { label: 'numeric entities', value: '&#60;script&#62;window.__pwned=1&#60;/script&#62;' },
  { label: 'hex entities in a handler', value: '<img src=x onerror="&#x77;indow.__pwned=1">' },
  { label: 'quot entity breakout', value: '&quot;&gt;&lt;svg onload=window.__pwned=1&gt;' },
  { label: 'literal \\u003c escapes', value: '\\u003cscript\\u003ewindow.__pwned=1\\u003c/script\\u003e' },
  { label: 'literal \\x3c escapes', value: '\\x3cscript\\x3ewindow.__pwned=1\\x3c/script\\x3e' },
  { label: 'percent-encoded markup (double encoding)', value: '%3Cscript%3Ewindow.__pwned=1%3C/script%3E' },
  { label: 'percent-encoded twice', value: '%253Cscript%253E' },
  // JavaScript string and template breakouts.
  { label: 'JS string breakout, double quote', value: '\\";window.__pwned=1;//' },
  { label: 'JS string breakout, single quote', value: "');window.__pwned=1;//" },
  { label: 'backticks and ${}', value: '`${window.__pwned=1}`' },
  { label: 'template literal ${7*7}', value: '${7*7}#{7*7}' },
  { label: 'JSON breakout', value: '"}]};window.__pwned=1;//' },
  // Line terminators that end a JS string literal in old engines.
  { label: 'U+2028 and U+2029', value: 'a\u2028b\u2029c' },
  { label: 'U+2028 before code', value: '\u2028window.__pwned=1//\u2029' },
  // Template syntax of the server's and other engines.
  { label: 'Tera/Jinja expression', value: '{{ 7*7 }}' },
  { label: 'template constructor call', value: "{{constructor.constructor('window.__pwned=1')()}}" },
  { label: 'Tera block tags', value: '{% raw %}{{ x }}{% endraw %}{# c #}' },
  // Prototype pollution.
  { label: '__proto__ JSON', value: '{"__proto__":{"polluted":1}}' },
  { label: 'constructor.prototype JSON', value: '{"constructor":{"prototype":{"polluted":1}}}' },
  { label: 'the word __proto__', value: '__proto__' },
  // Smuggling other options.
  { label: 'another option after &', value: 'x&_role_token=HostToken123' },
  { label: 'another license after &', value: 'x&_license_key=999-999-999&t=999-999-999' },
  { label: 'fragment', value: 'x#_role_token=HostToken123' },
  // Control characters, bidi and other Unicode.
  { label: 'NUL', value: 'Ada\u0000Lovelace' },
  { label: 'NUL before markup', value: '\u0000<script>window.__pwned=1</script>' },
  { label: 'CRLF header injection', value: 'Ada\r\nSet-Cookie: roomgate=x' },
  { label: 'CRLF body injection', value: '\r\n\r\n<script>window.__pwned=1</script>' },
  { label: 'vertical tab, form feed, NEL', value: 'A\u000b\u000c\u0085da' },
  { label: 'RTL override', value: '\u202Egnp.exe\u202C' },
  { label: 'bidi isolates', value: '\u2067Ada\u2069\u2066x\u2069' },
  { label: 'zero-width characters', value: 'A\u200Bd\u200Da\uFEFFx' },
  { label: 'emoji with ZWJ sequences', value: 'Ada 👩‍💻🏳️‍🌈🎉' },
  { label: 'Cyrillic look-alike', value: 'Аdа' },
  { label: 'combining characters', value: 'Z̷̢̛a̴l̸g̶o̵' },
  // Length.
  { label: `${LONG} × "A"`, value: 'A'.repeat(LONG) },
  { label: `${LONG} × "<"`, value: '<'.repeat(LONG) },
  { label: `script breakouts up to ${LONG} characters`, value: '</script><script>window.__pwned=1</script>'.repeat(238) },
  { label: `${LONG / 2} emoji (${LONG} UTF-16 units)`, value: '😀'.repeat(LONG / 2) },
  // Not valid UTF-8 at all.
  { label: 'invalid UTF-8 bytes', raw: '%FF%FE%3Cscript%3E' },
  { label: 'UTF-8 encoded surrogate', raw: '%ED%A0%80' },
  { label: 'broken percent escape', raw: '%zz%3C' },
  // Edges.
  { label: 'empty', value: '' },
  { label: 'spaces only', value: '   ' },
];

/** Extra values per parameter. */
export const BY_KIND = {
  _nickname: [
    { label: '100 characters (the most allowed)', value: 'é'.repeat(100) },
    { label: '101 characters', value: 'é'.repeat(101) },
    { label: '100 characters of markup', value: '<svg/onload=window.__pwned=1>'.repeat(4).slice(0, 100) },
    { label: 'padded with control characters', value: '\u0001\u0007 <b>Ada</b> \u001b' },
  ],
  _avatar_url: [
    { label: 'https URL with markup in the path', value: 'https://images.example.com/"><script>window.__pwned=1</script>' },
    { label: 'https URL with a handler in the query', value: 'https://images.example.com/a.png?"onerror="window.__pwned=1' },
    { label: 'https URL with markup in the fragment', value: 'https://images.example.com/a.png#<img src=x onerror=window.__pwned=1>' },
    { label: 'javascript: URL that looks like https', value: 'javascript:window.__pwned=1//https://images.example.com/a.png' },
    { label: 'data: SVG', value: 'data:image/svg+xml,<svg onload=window.__pwned=1>' },
    { label: 'plain http', value: 'http://images.example.com/a.png' },
    { label: 'user info', value: 'https://user:pass@images.example.com/a.png' },
    { label: 'protocol-relative', value: '//images.example.com/a.png' },
    { label: 'no host', value: 'https:///a.png' },
    { label: 'file URL', value: 'file:///etc/passwd' },
    { label: 'longer than 2048 bytes', value: `https://images.example.com/${'a'.repeat(2100)}.png` },
    { label: 'NUL in the path', value: 'https://images.example.com/a.png\u0000.js' },
    { label: 'CRLF in the path', value: 'https://images.example.com/a.png\r\nX-Evil: 1' },
    { label: 'template syntax in the path', value: 'https://images.example.com/{{7*7}}/${7*7}.png' },
    { label: 'RTL override in the path', value: 'https://images.example.com/\u202Egnp.exe' },
    { label: 'backslashes', value: 'https:\\\\images.example.com\\a.png' },
    { label: 'IPv6 loopback', value: 'https://[::1]/a.png' },
  ],
  _personal_token: [
    { label: 'valid token then markup', value: 'Tok_1"><script>window.__pwned=1</script>' },
    { label: 'valid token then another option', value: 'Tok_1&_role_token=HostToken123' },
    { label: 'path traversal', value: '../../etc/passwd' },
    { label: 'space', value: 'Tok 1' },
    { label: 'encoded space', value: 'Tok%201' },
    { label: 'dot and slash', value: 'Tok.1/2' },
    { label: '128 characters (the most allowed)', value: 'T'.repeat(128) },
    { label: '129 characters', value: 'T'.repeat(129) },
    { label: 'trailing NUL', value: 'Tok_1\u0000' },
    { label: 'trailing CRLF', value: 'Tok_1\r\n' },
    { label: 'Cyrillic look-alike', value: 'Tоk_1' },
    { label: 'semicolon', value: 'Tok_1;' },
  ],
  _email: [
    { label: 'quoted local part with markup', value: '"<script>window.__pwned=1</script>"@example.com' },
    { label: 'markup after the address', value: 'ada@example.com<script>window.__pwned=1</script>' },
    { label: 'quoted attribute breakout', value: '"\\"><svg onload=window.__pwned=1>"@example.com' },
    { label: 'CRLF Bcc injection', value: 'ada@example.com\r\nBcc: eve@example.com' },
    { label: 'encoded CRLF', value: 'ada@example.com%0d%0abcc:eve@example.com' },
    { label: 'template syntax', value: 'ada+{{7*7}}@example.com' },
    { label: 'SQL quote', value: "ada'--@example.com" },
    { label: 'IP literal domain', value: 'ada@[127.0.0.1]' },
    { label: 'longer than 254 bytes', value: `${'a'.repeat(250)}@example.com` },
    { label: 'display name form', value: 'Ada <ada@example.com>' },
    { label: 'ampersand in the domain', value: 'ada@exa&mple.com' },
    { label: 'RTL override', value: '\u202Emoc.elpmaxe@ada' },
    { label: 'javascript: in the local part', value: 'javascript:window.__pwned=1@example.com' },
  ],
};

/** The entries tried for `kind`: the common ones, then its own. */
export function valuesFor(kind) {
  return [...COMMON, ...(BY_KIND[kind] ?? [])];
}

/**
 * Names typed into the name prompt. The first group is refused by the server (too long
 * after cleaning), so the prompt comes back with the name in its input; the second group
 * is accepted and reaches the room.
 */
export const PROMPT_REFUSED = [
  '"><svg onload=window.__pwned=1>',
  '</textarea></script><script>window.__pwned=1</script>',
  "' autofocus onfocus='window.__pwned=1",
  '<img src=x onerror=window.__pwned=1>',
  '{{ 7*7 }}${7*7}`x`',
  '&quot;&gt;&lt;svg onload=window.__pwned=1&gt;',
].map((payload) => payload + 'x'.repeat(101));

export const PROMPT_ACCEPTED = [
  '</script><script>window.__pwned=1</script>',
  '"><svg onload=window.__pwned=1>',
  'a&_role_token=HostToken123',
  '{"__proto__":{"polluted":1}}',
  'Ada\u2028Lovelace\u2029',
];
