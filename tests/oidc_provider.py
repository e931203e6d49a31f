"""A real OpenID Connect provider for the single sign-on tests, built on Authlib's own authorization server and
served over HTTP from a thread (werkzeug.serving.make_server) on a free loopback port: discovery, JWKS (an RSA
key made for the run), authorize (approving at once as `provider.account`, the person "signed in" there),
token (the code grant with OpenID Connect's ID token and PKCE required) and userinfo.

What a test changes to make it misbehave, as a provider or an attacker in its place could:
`id_token_extra` (claims put over the ID token's: another nonce, another issuer, another audience),
`deny` (answer the authorization request with that error), `signing_key` (sign ID tokens with a key the JWKS
does not have: a forger's), `email_in_id_token` (False: the address only from
the userinfo endpoint, as many providers do). `requests` lists what the authorize endpoint was sent.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, redirect, request
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

SCOPES = ("openid", "email", "profile")


@dataclass
class Account:
    """The person signed in at the provider."""

    sub: str
    email: str | None
    email_verified: bool = True
    name: str = "Test Person"


@dataclass
class _Client:
    client_id: str
    client_secret: str
    redirect_uris: set[str]
    client_metadata: dict = field(default_factory=dict)   # none signed: the userinfo endpoint answers plain JSON

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return next(iter(self.redirect_uris), None)

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic" if endpoint == "token" else True

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    account: Account
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


@dataclass
class _Token:
    access_token: str
    scope: str
    client: _Client
    account: Account
    expires_at: float

    def get_scope(self):
        return self.scope

    def check_client(self, client):
        return client.client_id == self.client.client_id

    def get_expires_in(self):
        return int(self.expires_at - time.time())

    def is_expired(self):
        return time.time() >= self.expires_at

    def is_revoked(self):
        return False

    def get_user(self):
        return self.account

    def get_client(self):
        return self.client


class Provider:
    def __init__(self, client_id: str = "kia-test", redirect_uri: str = "http://127.0.0.1:5000/login/oidc/callback"):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-" + secrets.token_hex(4), "use": "sig",
                                                         "alg": "RS256"})
        self.client = _Client(client_id, "secret-" + secrets.token_urlsafe(16), {redirect_uri})
        self.account: Account | None = None
        self.id_token_extra: dict = {}
        self.deny: str | None = None
        self.signing_key: RSAKey | None = None
        self.email_in_id_token = True
        self.requests: list[dict] = []
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, _Token] = {}
        self.used_nonces: set[str] = set()
        self.app = self._make_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "Provider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        self.account, self.id_token_extra, self.deny, self.email_in_id_token = None, {}, None, True
        self.signing_key = None
        self.requests.clear()

    def claims_of(self, account: Account, scope: str, in_id_token: bool) -> dict:
        claims = {"sub": account.sub}
        if "profile" in scope.split():
            claims["name"] = account.name
        if "email" in scope.split() and account.email is not None and (self.email_in_id_token or not in_id_token):
            claims["email"] = account.email
            claims["email_verified"] = account.email_verified
        return claims

    def _make_app(self) -> Flask:
        provider = self
        app = Flask("test-oidc-provider")
        app.config["OAUTH2_SCOPES_SUPPORTED"] = list(SCOPES)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

            def save_authorization_code(self, code, request):
                provider.codes[code] = _Code(
                    code, request.client.client_id, request.payload.redirect_uri, request.payload.scope,
                    request.payload.data.get("nonce"), request.payload.data.get("code_challenge"),
                    request.payload.data.get("code_challenge_method"), request.user)

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.account

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce, request):
                return nonce in provider.used_nonces

            def resolve_client_private_key(self, client):
                return provider.signing_key or provider.key

            def get_client_claims(self, client):
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def generate_user_info(self, user, scope):
                # What a misbehaving provider (or one in its place) puts over the ID token's claims.
                return UserInfo({**provider.claims_of(user, scope, in_id_token=True), **provider.id_token_extra})

        class UserInfoAnswer(UserInfoEndpoint):
            def get_issuer(self):
                return provider.issuer

            def generate_user_info(self, user, scope):
                return UserInfo(provider.claims_of(user, scope, in_id_token=False))

            def resolve_private_key(self):
                return provider.key

        class Bearer(BearerTokenValidator):
            def authenticate_token(self, token_string):
                return provider.tokens.get(token_string)

        def save_token(token, request):
            provider.tokens[token["access_token"]] = _Token(token["access_token"], token["scope"], request.client,
                                                            request.user, time.time() + token["expires_in"])

        server = AuthorizationServer(app, query_client=lambda cid: self.client if cid == self.client.client_id
                                     else None, save_token=save_token)
        server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])
        protector = ResourceProtector()
        protector.register_token_validator(Bearer())
        server.register_endpoint(UserInfoAnswer(resource_protector=protector))

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({
                "issuer": provider.issuer,
                "authorization_endpoint": provider.issuer + "/authorize",
                "token_endpoint": provider.issuer + "/token",
                "userinfo_endpoint": provider.issuer + "/userinfo",
                "jwks_uri": provider.issuer + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": list(SCOPES),
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "name", "email", "email_verified"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [provider.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            provider.requests.append(request.args.to_dict())
            if provider.deny:
                query = urlencode({"error": provider.deny, "state": request.args.get("state", "")})
                return redirect(f"{request.args['redirect_uri']}?{query}")
            nonce = request.args.get("nonce")
            try:   # the consent page's check of the request; this provider's user consents at once
                grant = server.get_consent_grant(end_user=provider.account)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            response = server.create_authorization_response(grant=grant, grant_user=provider.account)
            if nonce:
                provider.used_nonces.add(nonce)
            return response

        @app.post("/token")
        def token():
            return server.create_token_response()

        @app.route("/userinfo", methods=["GET", "POST"])
        def userinfo():
            return server.create_endpoint_response("userinfo")

        return app
