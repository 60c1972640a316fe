'use strict'
// Masking credentials in recorded command lines (`system-info.json` keeps the user's own
// processes, and a backup set may leave the machine). Each rule replaces only the secret
// part with `***`, so the line still says what ran. Over-masking a harmless value is
// acceptable; leaking a password is not. The table of real-world lines that this must
// mask is in __test__/redact.test.js.

const MASK = '***'

/** Names that hold a secret when they are a flag (`--api-key x`) or a variable (`DB_PASS=x`). */
const SECRET_WORD = '(?:secret|token|passw|pass|pwd|key|credential|auth|cookie|session|signature|private)'

const RULES = [
  // URL userinfo password: scheme://user:pass@host
  [/(:\/\/[^/\s:@]+:)[^/\s@]+@/g, `$1${MASK}@`],
  // a bare token as URL userinfo: https://ghp_xxx@github.com, https://oauth2:... handled above
  [/(:\/\/)(?:ghp_|gho_|ghs_|ghu_|github_pat_|glpat-|x-access-token)[^/\s:@]*@/g, `$1${MASK}@`],
  // URL query parameters: ?token=..&api_key=..&sig=..
  [new RegExp(`([?&][\\w.-]*${SECRET_WORD}[\\w.-]*=)[^&\\s'"]+`, 'gi'), `$1${MASK}`],
  [/([?&](?:sig|signature|X-Amz-Signature|X-Amz-Credential)=)[^&\s'"]+/gi, `$1${MASK}`],
  // HTTP headers: "Authorization: Bearer x", "X-Api-Key: x", "Cookie: a=b", "Proxy-Authorization: Basic x"
  [/((?:proxy-)?authorization:\s*)(?:(bearer|basic|token|digest|negotiate)\s+)?[^\s'"]+/gi, (_m, head, scheme) => `${head}${scheme ? `${scheme} ` : ''}${MASK}`],
  [new RegExp(`(\\b(?!(?:proxy-)?authorization:)[\\w-]*${SECRET_WORD}[\\w-]*:\\s*)(?!\\*\\*\\*)[^\\s'"]+`, 'gi'), `$1${MASK}`],
  // environment-like NAME=value whose NAME holds a secret word: MYSQL_PWD=x, DB_PASS=x
  [new RegExp(`(\\b\\w*${SECRET_WORD}\\w*=)(?!\\*\\*\\*)(?:'[^']*'|"[^"]*"|\\S+)`, 'gi'), `$1${MASK}`],
  // mysql and friends: -p<password> attached (a lone -p prompts: nothing to mask);
  // docker login -p <password>
  [/(\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\n]*?\s-p)(?!\s)(?:'[^']*'|"[^"]*"|\S+)/g, `$1${MASK}`],
  [/(\bdocker\s+login\b[^\n]*?\s-p\s+)\S+/g, `$1${MASK}`],
  // flags: --password x, --password=x, --api-key=x, -token x
  [new RegExp(`((?:^|\\s)--?[\\w-]*${SECRET_WORD}[\\w-]*(?:=|\\s+))(?:'[^']*'|"[^"]*"|[^\\s-][^\\s]*|-[^\\s-][^\\s]*)`, 'gi'), `$1${MASK}`],
  // sshpass -p <password>, curl/wget -u user:password, redis-cli -a <password>
  [/(\bsshpass\s+-p\s*)\S+/g, `$1${MASK}`],
  [/((?:^|\s)(?:-u|--user)\s+[^\s:]+:)\S+/g, `$1${MASK}`],
  [/(\bredis-cli\b[^\n]*?\s-a\s+)\S+/g, `$1${MASK}`],
  // well-known token shapes anywhere: GitHub, GitLab, Slack, Stripe/OpenAI, AWS key ids, JWTs
  [/\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{20,}\b/g, MASK],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}\b/g, MASK],
  [/\bglpat-[A-Za-z0-9_-]{20,}\b/g, MASK],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, MASK],
  [/\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g, MASK],
  [/\bsk-[A-Za-z0-9_-]{20,}\b/g, MASK],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, MASK],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, MASK],
]

/** `command` with every credential-looking part replaced by `***`. */
function redactArgs(command) {
  let out = String(command)
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement)
  return out
}

module.exports = { redactArgs, MASK }
