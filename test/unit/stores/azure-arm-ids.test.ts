// ARM resource IDs of the azure store (pure).
import { describe, expect, it } from 'vitest';
import { parseVaultId } from '../../../src/stores/azure/arm-ids.ts';

describe('parseVaultId', () => {
  it("reads a Key Vault vault's ID, in any casing ARM answers", () => {
    expect(
      parseVaultId(
        '/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/contoso-kv',
      ),
    ).toEqual({ subscriptionId: 's', resourceGroup: 'rg', name: 'contoso-kv' });
  });

  it('refuses a Managed HSM: its keys are not what an integration account can reference, and vaults.get would say 404', () => {
    expect(
      parseVaultId(
        '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/contoso',
      ),
    ).toBeUndefined();
  });
});
