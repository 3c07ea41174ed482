// Which Entra ID the operator signs in to: the environment's AZURE_AUTHORITY_HOST (set by the
// AKS workload identity webhook) before the vault's cloud.
import { describe, expect, it } from 'vitest';
import { authorityHostFor } from '../../../src/vaults/azure/credentials.ts';

describe('authorityHostFor', () => {
  it('takes AZURE_AUTHORITY_HOST from the environment before the vault’s cloud', () => {
    const env = { AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' };
    expect(authorityHostFor('https://a.vault.azure.net', env)).toBe(
      'https://login.microsoftonline.us/',
    );
    expect(authorityHostFor('https://a.vault.azure.cn', {})).toBe('https://login.chinacloudapi.cn');
  });
});
