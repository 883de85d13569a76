/**
 * Takes what looks like a credential out of text before it goes to the model. Users paste API docs
 * with real keys in their examples (a curl line with a bearer token, a `api_key=` query); the model
 * needs the shape of the call, never the value. Conservative by design: a false positive costs an
 * example value, a false negative leaks a secret.
 */
const RULES: { name: string; pattern: RegExp; keep?: number }[] = [
  // Authorization headers in examples: keep the scheme word (any: Bearer, SSWS, ApiKey, …), drop the
  // value; a header with the bare key and no scheme word too.
  {
    name: 'authorization',
    pattern: /\b(authorization\s*[:=]\s*["']?(?:[A-Za-z][\w-]*\s+)?)[^\s"'<>]{4,}/gi,
    keep: 1,
  },
  // Cookie headers: every value a session.
  { name: 'cookie', pattern: /\b((?:set-)?cookie\s*:\s*)[^\r\n"']+/gi, keep: 1 },
  // curl's Basic credentials: keep the user, drop the password.
  { name: 'curl-user', pattern: /((?:^|\s)(?:-u|--user)(?:\s+|=)["']?[^\s:"']+:)[^\s"']+/g, keep: 1 },
  { name: 'bearer', pattern: /\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, keep: 1 },
  // key=value pairs whose key names a secret (query strings, JSON, headers, env lines).
  {
    name: 'named-secret',
    pattern:
      /((?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|client[_-]?secret|secret|password|passwd|private[_-]?key|x-api-key|token)["']?\s*[:=]\s*["']?)([^\s"'&,<>}]{4,})/gi,
    keep: 1,
  },
  // Credentials inside URLs: scheme://user:pass@host
  { name: 'url-userinfo', pattern: /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+(@)/gi, keep: 1 },
  // Well-known key formats.
  { name: 'aws-access-key', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  { name: 'github-token', pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g },
  { name: 'slack-token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g },
  { name: 'prefixed-key', pattern: /\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}\b/g },
  { name: 'anthropic-key', pattern: /\bsk-ant-[A-Za-z0-9_-]{10,}\b/g },
  { name: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { name: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g },
  { name: 'private-key-block', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g },
];

export interface Redaction {
  rule: string;
  count: number;
}

export function redactSecrets(text: string): { text: string; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  let out = text;
  for (const rule of RULES) {
    let count = 0;
    out = out.replace(rule.pattern, (...m: unknown[]) => {
      count += 1;
      const groups = m.slice(1, -2) as (string | undefined)[];
      if (rule.name === 'url-userinfo') return `${groups[0]}REDACTED${groups[1]}`;
      return rule.keep ? `${groups[0] ?? ''}REDACTED` : 'REDACTED';
    });
    if (count) redactions.push({ rule: rule.name, count });
  }
  return { text: out, redactions };
}
