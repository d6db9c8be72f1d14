import type { FakeKakao } from '../fakes/kakao.js'
import type { FakeNaver } from '../fakes/naver.js'

// The fakes' behaviour put back before each test of the OIDC-mode, prompt and consent-repair files.

/** Kakao with OIDC enabled in its console, email enabled as a consent item, and a person who agrees to everything. */
export function resetKakao (kakao: FakeKakao): void {
  kakao.clientSecret = undefined
  kakao.consentItems = ['profile_nickname', 'profile_image', 'account_email']
  kakao.account = { id: '4287654321', nickname: '홍길동', profileImage: 'http://k.kakaocdn.net/dn/img_640x640.jpg', email: 'gildong@kakao.com', isEmailValid: true, isEmailVerified: true }
  kakao.authorize = 'approve'
  kakao.token = 'ok'
  kakao.profile = 'ok'
  kakao.oidc = true
  kakao.idToken = 'none'
  kakao.jwks = 'ok'
  kakao.declines = []
  kakao.withheld = new Set()
  kakao.agreed = new Set()
  kakao.nonces = []
}

/** Naver with a person who has not seen the consent screen yet and agrees to everything. */
export function resetNaver (naver: FakeNaver): void {
  naver.user = { id: 'Tq1lG8W1pHc7oR2xvC0Jv3p0c6pIh0oYgZbS6n5mPqs', nickname: 'OpenAPI', name: '오픈 API', email: 'openapi@naver.com', profile_image: 'https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif' }
  naver.authorize = 'approve'
  naver.token = 'ok'
  naver.profile = 'ok'
  naver.idToken = 'none'
  naver.jwks = 'ok'
  naver.sub = undefined
  naver.declines = []
  naver.withheld = new Set()
  naver.consented = false
}
