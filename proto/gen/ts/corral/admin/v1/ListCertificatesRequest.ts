// Original file: proto/corral/admin/v1/admin.proto


export interface ListCertificatesRequest {
  'includeRevoked'?: (boolean);
}

export interface ListCertificatesRequest__Output {
  'includeRevoked': (boolean);
}
