// Original file: proto/corral/admin/v1/admin.proto


export interface ReloadResponse {
  'added'?: (string)[];
  'removed'?: (string)[];
  'changed'?: (string)[];
  'unchanged'?: (string)[];
  'failed'?: (string)[];
}

export interface ReloadResponse__Output {
  'added': (string)[];
  'removed': (string)[];
  'changed': (string)[];
  'unchanged': (string)[];
  'failed': (string)[];
}
