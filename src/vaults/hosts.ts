// Which vault hosts the operator may contact. Anything else gets VaultHostNotAllowed and no
// request at all: otherwise anyone who can create an account could collect the operator's
// Azure token with a vault URL of their own.

export const AZURE_KEY_VAULT_SUFFIXES = [
  '.vault.azure.net',
  '.vault.azure.cn',
  '.vault.usgovcloudapi.net',
  '.managedhsm.azure.net',
] as const;

export type HostVerdict =
  { allowed: true; extraHost: boolean } | { allowed: false; message: string };

/**
 * `extraHosts` are the operator's --allowed-vault-hosts (emulators), as `host` or `host:port`.
 * `extraHost` says the host is one of those: only then may Key Vault's challenge-resource
 * verification be relaxed.
 */
export function checkVaultHost(vaultUrl: string, extraHosts: readonly string[]): HostVerdict {
  let url: URL;
  try {
    url = new URL(vaultUrl);
  } catch {
    return { allowed: false, message: `vault URL ${JSON.stringify(vaultUrl)} is not a URL` };
  }
  if (url.protocol !== 'https:')
    return { allowed: false, message: `vault URL ${vaultUrl} must use https` };
  if (url.username || url.password)
    return { allowed: false, message: `vault URL ${vaultUrl} must not carry credentials` };
  const hostname = url.hostname.toLowerCase();
  const extra = extraHosts.some((h) => {
    const allowed = h.toLowerCase();
    return allowed === url.host.toLowerCase() || (!allowed.includes(':') && allowed === hostname);
  });
  if (extra) return { allowed: true, extraHost: true };
  if (
    url.port === '' &&
    AZURE_KEY_VAULT_SUFFIXES.some((s) => hostname.endsWith(s) && hostname.length > s.length)
  ) {
    return { allowed: true, extraHost: false };
  }
  return {
    allowed: false,
    message: `vault host ${url.host} is not an Azure Key Vault host (${AZURE_KEY_VAULT_SUFFIXES.join(', ')}) and not in the operator's --allowed-vault-hosts; no request was sent to it`,
  };
}
