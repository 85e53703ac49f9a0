// Original file: proto/corral/admin/v1/admin.proto


export interface ListReleasesRequest {
  'plugin'?: (string);
}

export interface ListReleasesRequest__Output {
  'plugin': (string);
}
