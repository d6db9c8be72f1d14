// The demo's own words, in English and Korean. Error sentences come from the server's catalog
// (GET /auth/messages, see messages.ts); these are the screens around them.

export type Language = 'en' | 'ko'

/** Korean when the browser prefers it to English (navigator.languages, in order), English otherwise. */
export function preferredLanguage (languages: readonly string[] = navigator.languages ?? [navigator.language]): Language {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split('-')[0]
    if (primary === 'ko' || primary === 'en') return primary
  }
  return 'en'
}

const en = {
  title: 'handoff demo',
  apiDocs: 'API docs',
  footer: 'Social login for single-page apps: a one-time code in the fragment, HttpOnly cookies, no token in any URL.',
  signIn: 'Sign in',
  signInLead: 'Choose how you want to continue. Your tokens stay in HttpOnly cookies, never in a URL.',
  noProvider: 'No provider is enabled. Start the server with DEV_LOGIN=true or set GITHUB_CLIENT_ID.',
  continueWith: 'Continue with {provider}',
  kakaoLogin: 'Login with Kakao',
  naverLogin: 'Log in with NAVER',
  appleLogin: 'Sign in with Apple',
  devLogin: 'Continue with Dev login',
  createAccount: 'Create account',
  checking: 'Checking…',
  nickname: 'Nickname',
  welcome: 'Welcome',
  welcomeName: 'Welcome, {name}',
  signedInWith: 'Signed in with {provider}. Pick the nickname others will see.',
  signedInWithEmail: 'Signed in with {provider} as {email}. Pick the nickname others will see.',
  nicknameRules: '2 to 20 characters: 한글, letters, digits, _ and . (not only digits).',
  sessions: 'Sessions',
  noSessionList: 'This server does not list sessions yet.',
  deviceSignedOut: 'This device was signed out.',
  sessionRevoked: 'Session revoked: that device is signed out at its next request.',
  thisDevice: 'This device',
  sessionLine: '{ip} · signed in {signedIn} · last active {lastActive}',
  unknownAddress: 'unknown address',
  signOut: 'Sign out',
  revoke: 'Revoke',
  unknownDevice: 'Unknown device',
  agent: '{browser} on {system}',
  browser: 'Browser',
  unknownSystem: 'unknown system',
  confirmTitle: 'Sign in again to confirm',
  confirmLead: 'Then press “{action}” once more.',
  cancel: 'Cancel',
  deleteConfirm: 'Delete your account, its linked providers and every session? This cannot be undone.',
  accountDeleted: 'Your account was deleted.',
  noNameOrEmail: 'No name or verified email shared',
  memberSince: 'Member since {date}',
  refreshSession: 'Refresh session',
  sessionRefreshed: 'Session refreshed: new cookies, and the old refresh token no longer works.',
  signedOut: 'You are signed out.',
  linkedProviders: 'Linked providers',
  unverified: '{email} (unverified)',
  identityLine: 'linked {linked} · last sign-in {lastLogin}',
  unlink: 'Unlink',
  unlinked: '{provider} unlinked.',
  link: 'Link {provider}',
  linked: '{provider} is linked: you can sign in with it too.',
  signOutEverywhere: 'Sign out everywhere',
  signedOutEverywhere: 'You are signed out on every device.',
  kakaoLogoutHint: 'This browser is still signed in to Kakao. On a shared computer, sign out there too.',
  kakaoLogout: 'Log out of Kakao Account too',
  deleteAccount: 'Delete account',
  networkError: 'The server could not be reached. Check your connection and try again.',
  unknownError: 'Sign-in failed ({code}). Please try again.',
  requiredInformation: 'required information',
  forTheDeveloper: 'For the developer ({code}):'
}

const ko: typeof en = {
  title: 'handoff 데모',
  apiDocs: 'API 문서',
  footer: '싱글 페이지 앱을 위한 소셜 로그인: 일회용 코드는 프래그먼트로, 세션은 HttpOnly 쿠키로. URL에는 어떤 토큰도 남지 않아요.',
  signIn: '로그인',
  signInLead: '계속할 방법을 골라 주세요. 토큰은 URL이 아니라 HttpOnly 쿠키에만 보관돼요.',
  noProvider: '켜진 로그인 방법이 없어요. DEV_LOGIN=true로 서버를 시작하거나 GITHUB_CLIENT_ID를 설정하세요.',
  continueWith: '{provider} 계정으로 계속하기',
  kakaoLogin: '카카오 로그인',
  naverLogin: '네이버 로그인',
  appleLogin: 'Apple로 로그인',
  devLogin: '개발용 로그인으로 계속하기',
  createAccount: '가입하기',
  checking: '확인하는 중…',
  nickname: '닉네임',
  welcome: '환영해요',
  welcomeName: '{name}님, 환영해요',
  signedInWith: '{provider} 계정으로 로그인했어요. 다른 사람에게 보일 닉네임을 골라 주세요.',
  signedInWithEmail: '{provider} 계정({email})으로 로그인했어요. 다른 사람에게 보일 닉네임을 골라 주세요.',
  nicknameRules: '2~20자: 한글, 영문, 숫자, _ 와 . (숫자로만 된 닉네임은 안 돼요)',
  sessions: '세션',
  noSessionList: '이 서버는 아직 세션 목록을 보여 주지 않아요.',
  deviceSignedOut: '이 기기에서 로그아웃했어요.',
  sessionRevoked: '세션을 종료했어요. 그 기기는 다음 요청 때 로그아웃돼요.',
  thisDevice: '이 기기',
  sessionLine: '{ip} · 로그인 {signedIn} · 최근 활동 {lastActive}',
  unknownAddress: '알 수 없는 주소',
  signOut: '로그아웃',
  revoke: '종료',
  unknownDevice: '알 수 없는 기기',
  agent: '{system}의 {browser}',
  browser: '브라우저',
  unknownSystem: '알 수 없는 시스템',
  confirmTitle: '확인을 위해 다시 로그인해 주세요',
  confirmLead: '그다음 “{action}” 버튼을 한 번 더 눌러 주세요.',
  cancel: '취소',
  deleteConfirm: '계정과 연결된 로그인 방법, 모든 세션을 삭제할까요? 되돌릴 수 없어요.',
  accountDeleted: '계정을 삭제했어요.',
  noNameOrEmail: '공유된 이름이나 인증된 이메일이 없어요',
  memberSince: '{date} 가입',
  refreshSession: '세션 갱신',
  sessionRefreshed: '세션을 갱신했어요. 새 쿠키를 받았고, 이전 리프레시 토큰은 이제 쓸 수 없어요.',
  signedOut: '로그아웃했어요.',
  linkedProviders: '연결된 로그인 방법',
  unverified: '{email} (미인증)',
  identityLine: '연결 {linked} · 최근 로그인 {lastLogin}',
  unlink: '연결 끊기',
  unlinked: '{provider} 연결을 끊었어요.',
  link: '{provider} 연결',
  linked: '{provider} 계정을 연결했어요. 이제 이 계정으로도 로그인할 수 있어요.',
  signOutEverywhere: '모든 기기에서 로그아웃',
  signedOutEverywhere: '모든 기기에서 로그아웃했어요.',
  kakaoLogoutHint: '이 브라우저는 아직 카카오에 로그인되어 있어요. 여러 사람이 쓰는 컴퓨터라면 카카오에서도 로그아웃하세요.',
  kakaoLogout: '카카오계정과 함께 로그아웃',
  deleteAccount: '계정 삭제',
  networkError: '서버에 연결할 수 없어요. 네트워크를 확인하고 다시 시도해 주세요.',
  unknownError: '로그인하지 못했어요({code}). 다시 시도해 주세요.',
  requiredInformation: '필요한 정보',
  forTheDeveloper: '개발자 안내({code}):'
}

export type TextKey = keyof typeof en

/** The page's language, chosen once at start. */
export const language: Language = preferredLanguage()

/** `{name}` placeholders filled in; one without a value stays visible, never `undefined`. */
export const fill = (template: string, params: Record<string, string> = {}) =>
  template.replace(/\{(\w+)\}/g, (whole, name: string) => Object.hasOwn(params, name) ? params[name] : whole)

export const text = (key: TextKey, params?: Record<string, string>) => fill((language === 'ko' ? ko : en)[key], params)

const providerNames: Record<Language, Record<string, string>> = {
  en: { github: 'GitHub', kakao: 'Kakao', naver: 'Naver', google: 'Google', apple: 'Apple', oidc: 'OpenID Connect', dev: 'Dev login' },
  ko: { github: 'GitHub', kakao: '카카오', naver: '네이버', google: 'Google', apple: 'Apple', oidc: 'OpenID Connect', dev: '개발용 로그인' }
}
/** A provider's name in the page's language (the server's own name for providers we do not know). */
export const providerName = (id: string, serverName?: string) => providerNames[language][id] ?? serverName ?? id

/**
 * The label of a provider's login button. Kakao and Naver have theirs in their design guides
 * (Kakao: "카카오 로그인" / "Login with Kakao"; Naver: "네이버 로그인" / "Log in with NAVER"), as has Apple.
 */
export function loginLabel (id: string, serverName: string): string {
  if (id === 'kakao') return text('kakaoLogin')
  if (id === 'naver') return text('naverLogin')
  if (id === 'apple') return text('appleLogin')
  if (id === 'dev') return text('devLogin')
  return text('continueWith', { provider: providerName(id, serverName) })
}
