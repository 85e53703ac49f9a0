// Original file: proto/corral/plugin/v1/control.proto


export interface ReloadTrustRequest {
}

export interface ReloadTrustRequest__Output {
}
