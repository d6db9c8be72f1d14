import type { en } from './en.js'

/** A catalog in another language: the same keys as the English one, every value a string. */
export type Translation<T = typeof en> = { readonly [K in keyof T]: T[K] extends string ? string : Translation<T[K]> }

// 한국어 카탈로그. 사람이 읽는 문장은 해요체로 통일합니다. `{name}` 자리표시자는 영어판과 같은 이름을 씁니다.

export const ko: Translation = {
  errors: {
    not_found: '없는 주소이거나 이미 사라진 항목이에요.',
    provider_not_found: '사용할 수 없는 로그인 방법이에요.',
    login_code_invalid: '이미 사용됐거나 만료된 로그인 링크예요. 다시 로그인해 주세요.',
    not_authenticated: '먼저 로그인해 주세요. 액세스 토큰이 없거나, 만료됐거나, 올바르지 않아요.',
    refresh_token_invalid: '로그인 세션이 끝났어요. 다시 로그인해 주세요.',
    refresh_token_reused: '이 세션의 로그인 정보가 다시 사용됐어요(다른 브라우저일 수 있어요). 계정을 보호하려고 세션을 종료했으니 다시 로그인해 주세요.',
    session_not_found: '이미 종료된 세션이에요.',
    csrf_rejected: '다른 사이트에서 보낸 요청일 수 있어서 거부했어요. 페이지를 새로 고친 뒤 다시 시도해 주세요.',
    dev_login_local_only: '개발용 로그인은 이 컴퓨터에서 보낸 요청에만 응답해요(프록시나 터널을 거치면 안 돼요).',
    reauthentication_required: '안전을 위해 최근에 로그인한 상태에서만 할 수 있어요. 확인을 위해 다시 로그인해 주세요.',
    signup_invalid: '가입 시간이 너무 오래 지났거나 이미 가입을 마쳤어요. 다시 로그인해 주세요.',
    nickname_invalid: '쓸 수 없는 닉네임이에요.',
    nickname_reserved: '예약된 닉네임이거나 예약된 닉네임과 너무 비슷해요.',
    nickname_taken: '이미 사용 중인 닉네임이에요. 다른 닉네임을 골라 주세요.',
    identity_not_found: '이미 계정에서 연결이 끊긴 로그인 방법이에요.',
    identity_ambiguous: '같은 서비스의 계정이 여러 개 연결되어 있어요. 페이지를 새로 고친 뒤 목록에서 연결을 끊을 계정을 골라 주세요.',
    last_identity: '계정에 로그인할 수 있는 유일한 방법이에요. 연결을 끊기 전에 다른 로그인 방법을 먼저 연결해 주세요.',
    user_not_found: '더 이상 존재하지 않는 계정이에요.',
    signup_hook_failed: '계정을 준비하지 못했어요. 아무것도 저장되지 않았으니 다시 시도해 주세요.',
    unlink_unauthorized: '연결 끊기 알림에 이 앱의 인증 정보가 없거나, 허용 시간을 벗어났어요.',
    unlink_request_invalid: '연결 끊기 알림에 빠진 값이 있거나 형식이 올바르지 않아요.',
    metrics_token_invalid: 'GET /metrics에는 Authorization: Bearer <METRICS_TOKEN> 헤더가 필요해요.',
    database_unavailable: '서비스를 잠시 이용할 수 없어요. 몇 초 뒤에 다시 시도해 주세요.',
    internal_error: '서버에서 문제가 생겼어요. 다시 시도해 주세요.',
    invalid_request: '요청이 올바르지 않아요.',
    payload_too_large: '요청 본문이 너무 커요.',
    unsupported_media_type: '여기서는 받을 수 없는 콘텐츠 유형이에요. JSON(Content-Type: application/json)으로 보내 주세요.',
    rate_limited: '시도가 너무 많아요. 잠시 기다렸다가 다시 시도해 주세요.',
    redirect_uri_not_allowed: '이 redirect_uri는 NATIVE_REDIRECT_URIS에 등록되어 있지 않아요(정확히 일치해야 하고, 루프백 http://127.0.0.1 또는 http://[::1] 주소만 포트와 상관없이 일치해요).',
    code_challenge_required: 'redirect_uri로 로그인하려면 code_challenge(code_verifier의 SHA-256을 base64url로 인코딩한 값)와 code_challenge_method=S256이 필요해요.',
    native_token_unsupported: '이 로그인 방법은 앱에서 받은 토큰을 받지 않아요. 시스템 브라우저로 로그인해 주세요.',
    native_token_invalid: '로그인 서비스에서 이 로그인을 확인하지 못했어요. 다시 로그인해 주세요.',
    native_link_unsupported: '다른 로그인 방법 연결은 브라우저 세션에서만 할 수 있어요. 앱에서는 시작할 수 없어요.',
    provider_consent_missing: '이 앱에 꼭 필요한 정보를 로그인 서비스에서 받지 못했어요. 앱에서 추가 동의를 받은 뒤 다시 로그인해 주세요.',
    provider_timeout: '로그인 서비스가 제시간에 응답하지 않았어요. 다시 시도해 주세요.',
    provider_error: '로그인 서비스에서 오류가 났어요. 잠시 뒤에 다시 시도해 주세요.'
  },

  details: {
    route_not_found: '{route} 경로를 찾을 수 없어요.',
    provider_not_found_named: '"{provider}" 로그인 방법은 없거나 꺼져 있어요.',
    csrf_header_missing: '이 경로에는 X-Requested-With 헤더가 필요해요.',
    csrf_origin_not_allowed: '{origin}에서 보낸 요청은 허용되지 않아요.',
    nickname_length: '닉네임은 {min}자에서 {max}자 사이여야 해요.',
    nickname_characters: '한글, 영문, 숫자, "_", "."만 쓸 수 있어요.',
    nickname_only_digits: '숫자로만 된 닉네임은 쓸 수 없어요.',
    nickname_available: '사용할 수 있는 닉네임이에요.',
    identity_ambiguous_provider: '{provider} 계정이 여러 개 연결되어 있어요. 연결을 끊을 계정을 ID로 지정해 주세요(GET /users/me에서 확인할 수 있어요).',
    invalid_request_detail: '요청이 올바르지 않아요: {detail}',
    request_timeout: '요청이 도착하는 데 너무 오래 걸렸어요.',
    headers_too_large: '요청 헤더가 너무 커요.',
    request_malformed: '요청 형식이 잘못됐어요.',
    path_parameter_too_long: '경로 매개변수가 너무 길어요.',
    url_malformed: 'URL 형식이 잘못됐어요.',
    rate_limited_retry: '시도가 너무 많아요. {seconds}초 뒤에 다시 시도해 주세요.'
  },

  login: {
    access_denied: '로그인 화면에서 취소하셨어요. 아무 정보도 공유되지 않았고, 언제든 다시 시도할 수 있어요.',
    invalid_state: '이 브라우저에서 시작한 로그인이 아니거나 시간이 너무 오래 지났어요. 처음부터 다시 로그인해 주세요.',
    invalid_callback: '로그인 서비스의 응답이 불완전해요. 다시 시도해 주세요.',
    provider_token_error: '로그인 서비스가 이번 로그인을 받아들이지 않았어요. 다시 시도해 주세요.',
    provider_profile_error: '로그인 서비스에서 프로필을 가져오지 못했어요. 다시 시도해 주세요.',
    provider_error: '로그인 서비스에서 오류가 났어요. 잠시 후 다시 시도해 주세요.',
    provider_misconfigured: '이 로그인 방법의 설정에 문제가 있어요. 당분간 다른 방법으로 로그인해 주세요.',
    provider_scope_not_enabled: '이 로그인 방법이 아직 허용되지 않은 정보를 요청하고 있어요. 당분간 다른 방법으로 로그인해 주세요.',
    provider_timeout: '로그인 서비스가 제때 응답하지 않았어요. 다시 시도해 주세요.',
    provider_consent_missing: '서비스 이용에 꼭 필요한 정보({missing})를 받지 못했어요. 다시 로그인하면서 동의 화면에서 이 항목에 동의해 주세요.',
    identity_in_use: '이 로그인 계정은 이미 여기의 다른 계정에 연결되어 있어요. 그 계정을 쓰려면 이 로그인 방법으로 로그인해 주세요.',
    link_session_invalid: '연결을 시작한 세션이 이미 끝났어요. 다시 로그인한 뒤 연결해 주세요.',
    server_error: '서버에서 문제가 생겼어요. 다시 시도해 주세요.'
  },

  fields: {
    email: '이메일',
    name: '이름',
    nickname: '닉네임',
    avatar: '프로필 사진'
  },
  listSeparator: ', ',

  // 카카오 콘솔의 메뉴 경로는 2025년에 바뀐 현재 콘솔 기준이고, 괄호 안은 이전 콘솔의 경로예요.
  kakao: {
    KOE004: '이 앱은 카카오 로그인이 꺼져 있어요. [카카오 로그인] > [사용 설정]에서 상태를 ON으로 바꾸세요(이전 콘솔: [내 애플리케이션] > [카카오 로그인] > [활성화 설정]).',
    KOE005: '아직 테스트 앱이라서 멤버로 등록된 카카오계정만 로그인할 수 있어요. [앱] > [멤버]에서 이 계정을 추가하세요(이전 콘솔: [내 애플리케이션] > [팀 관리]).',
    KOE006: '카카오에 등록되지 않은 리다이렉트 URI예요. [앱] > [플랫폼 키] > [REST API 키] > [리다이렉트 URI]에 {callbackUrl} 주소를 정확히 그대로 등록하세요(이전 콘솔: [내 애플리케이션] > [카카오 로그인] > [Redirect URI]).',
    KOE007: '카카오에 등록되지 않은 로그아웃 리다이렉트 URI예요. KAKAO_LOGOUT_REDIRECT_URI 값을 [카카오 로그인] > [고급] > [로그아웃 리다이렉트 URI]에 정확히 그대로 등록하세요.',
    KOE010: '카카오가 클라이언트 시크릿을 거부했어요. [앱] > [플랫폼 키] > [REST API 키] > [클라이언트 시크릿]의 코드를 KAKAO_CLIENT_SECRET에 넣거나, 그곳에서 클라이언트 시크릿을 비활성화하세요(이전 콘솔: [내 애플리케이션] > [보안]). 2025년 이후에 만든 REST API 키는 기본으로 켜져 있어요.',
    KOE101: '카카오가 모르는 앱 키예요. KAKAO_CLIENT_ID에는 [앱] > [플랫폼 키]의 REST API 키를 넣어야 해요. JavaScript 키, 네이티브 앱 키, 어드민 키는 안 돼요(이전 콘솔: [내 애플리케이션] > [앱 키]).',
    KOE205: '앱에 설정하지 않은 동의항목을 요청하고 있어요. [카카오 로그인] > [동의항목]에서 그 항목을 설정하거나 KAKAO_SCOPES에서 빼세요. account_email은 비즈 앱만 쓸 수 있어요([앱] > [일반] > [비즈니스 정보]).',
    KOE303: '토큰 요청의 리다이렉트 URI가 로그인을 시작할 때와 달라요. 모든 인스턴스의 PUBLIC_URL이 같아야 하고, 카카오에 등록한 리다이렉트 URI({callbackUrl})와도 일치해야 해요.',
    KOE320: '인가 코드가 올바르지 않거나, 만료됐거나, 이미 사용됐어요(콜백 페이지를 새로 고쳤거나 로그인 화면을 너무 오래 열어 둔 경우). 콘솔에서 바꿀 것은 없으니 다시 로그인하세요.',
    KOE400: '카카오가 ID 토큰이 올바르지 않다고 해요. KAKAO_CLIENT_ID가 REST API 키(토큰의 대상)인지, [카카오 로그인] > [OpenID Connect]가 켜져 있는지 확인하세요.'
  }
}
