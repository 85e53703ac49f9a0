// Original file: proto/corral/admin/v1/admin.proto


export interface RotateCertificatesRequest {
  'plugins'?: (string)[];
}

export interface RotateCertificatesRequest__Output {
  'plugins': (string)[];
}
