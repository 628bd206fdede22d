import { MAX_PAGE_SIZE, SCIM } from './model.js';

/** RFC 7643 §5: what this service provider supports, for clients that ask before they send. */
export function serviceProviderConfig(baseUrl: string, docsUrl: string) {
  return {
    schemas: [SCIM.serviceProviderConfig],
    documentationUri: docsUrl,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'SCIM token',
        description:
          "The organization's SCIM token (sf_scim_…) as Authorization: Bearer; an owner creates it in the console.",
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        documentationUri: docsUrl,
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypes(baseUrl: string) {
  return [
    {
      schemas: [SCIM.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A person in the organization: its members, and those SCIM suspended or invited',
      schema: SCIM.user,
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [SCIM.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A role in the organization: Viewers, Members, Admins (owners are not reachable by SCIM)',
      schema: SCIM.group,
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

type Attribute = {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'dateTime' | 'reference';
  multiValued?: boolean;
  required?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable';
  uniqueness?: 'none' | 'server';
  caseExact?: boolean;
  subAttributes?: Attribute[];
  description: string;
};

function attribute(a: Attribute): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued ?? false,
    description: a.description,
    required: a.required ?? false,
    caseExact: a.caseExact ?? false,
    mutability: a.mutability ?? 'readWrite',
    returned: 'default',
    uniqueness: a.uniqueness ?? 'none',
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(attribute) } : {}),
  };
}

const memberRef = (what: string): Attribute[] => [
  { name: 'value', type: 'string', mutability: 'readOnly', description: `The ${what}'s id` },
  { name: 'display', type: 'string', mutability: 'readOnly', description: `The ${what}'s name` },
  { name: '$ref', type: 'reference', mutability: 'readOnly', description: `The ${what}'s URI` },
];

export function schemas(baseUrl: string) {
  return [
    {
      schemas: [SCIM.schema],
      id: SCIM.user,
      name: 'User',
      description: 'A person in the organization',
      attributes: [
        {
          name: 'userName',
          type: 'string',
          required: true,
          uniqueness: 'server',
          mutability: 'immutable',
          description: "The account's email address; the person changes it, not SCIM",
        },
        { name: 'externalId', type: 'string', caseExact: true, description: "The identity provider's id" },
        {
          name: 'name',
          type: 'complex',
          mutability: 'readOnly',
          subAttributes: [{ name: 'formatted', type: 'string', description: 'Full name' }],
          description: "The account's name (kept by the person)",
        },
        { name: 'displayName', type: 'string', mutability: 'readOnly', description: "The account's name" },
        {
          name: 'emails',
          type: 'complex',
          multiValued: true,
          mutability: 'readOnly',
          subAttributes: [{ name: 'value', type: 'string', description: 'The address' }],
          description: "The account's email address",
        },
        {
          name: 'active',
          type: 'boolean',
          description: 'false suspends the membership and ends its sessions; true restores it',
        },
        {
          name: 'groups',
          type: 'complex',
          multiValued: true,
          mutability: 'readOnly',
          subAttributes: memberRef('group'),
          description: "The member's role as a group (changed through /Groups)",
        },
      ].map((a) => attribute(a as Attribute)),
      meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${SCIM.user}` },
    },
    {
      schemas: [SCIM.schema],
      id: SCIM.group,
      name: 'Group',
      description: 'A role in the organization',
      attributes: [
        {
          name: 'displayName',
          type: 'string',
          required: true,
          uniqueness: 'server',
          mutability: 'readOnly',
          description: 'Viewers, Members or Admins',
        },
        {
          name: 'members',
          type: 'complex',
          multiValued: true,
          subAttributes: memberRef('user'),
          description: 'The members holding this role',
        },
      ].map((a) => attribute(a as Attribute)),
      meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${SCIM.group}` },
    },
  ];
}
