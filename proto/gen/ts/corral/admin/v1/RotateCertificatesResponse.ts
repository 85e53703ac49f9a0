// Original file: proto/corral/admin/v1/admin.proto


export interface RotateCertificatesResponse {
  'instances'?: (string)[];
}

export interface RotateCertificatesResponse__Output {
  'instances': (string)[];
}
