// Original file: proto/corral/admin/v1/admin.proto


export interface RevokeCertificateResponse {
  'revokedSerials'?: (string)[];
}

export interface RevokeCertificateResponse__Output {
  'revokedSerials': (string)[];
}
