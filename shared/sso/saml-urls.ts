/** Our service provider's addresses for an org: entity ID (= its metadata URL) and the one ACS. */
export function samlSpUrls(appUrl: string, orgSlug: string) {
  const metadataUrl = `${appUrl}/api/login/saml/${encodeURIComponent(orgSlug)}/metadata`;
  return { entityId: metadataUrl, metadataUrl, acsUrl: `${appUrl}/api/login/saml/acs` };
}
