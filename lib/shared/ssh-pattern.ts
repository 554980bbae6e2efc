/**
 * OpenSSH's patterns: `*` any run, `?` one character. Host names (known_hosts, `Host` lines)
 * match in any case; file names (an `Include` glob) as written.
 */
export function matchesSshPattern(pattern: string, name: string, ignoreCase = true): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', ignoreCase ? 'i' : '');
  return re.test(name);
}
