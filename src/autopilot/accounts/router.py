"""Accounts API: sign-up, login, me, personal tokens, members and invitations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from autopilot.accounts import schemas, service
from autopilot.accounts.deps import CurrentCaller, client_address
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.openapi import PROBLEMS, problems

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=PROBLEMS)
ClientDep = Annotated[str, Depends(client_address)]


def _me(caller: service.Caller) -> schemas.MeOut:
    return schemas.MeOut(
        user=schemas.UserOut.model_validate(caller.user),
        organization=schemas.OrganizationOut.model_validate(caller.org),
        role=caller.role,
        timezone=caller.user.timezone,
        operator=caller.is_operator,
    )


@router.post("/auth/signup", status_code=202)
async def signup(body: schemas.SignupIn, tx: TransactionsDep, settings: SettingsDep) -> schemas.SignupAccepted:
    """The same answer whether or not the e-mail already has an account (its owner is e-mailed)."""
    await service.signup(tx, settings, **body.model_dump())
    return schemas.SignupAccepted(detail=service.SIGNUP_ANSWER)


@router.post("/auth/login", responses=problems(401, 429))
async def login(
    body: schemas.LoginIn, tx: TransactionsDep, settings: SettingsDep, client: ClientDep
) -> schemas.TokenOut:
    issued = await service.login(
        tx,
        email=body.email,
        password=body.password,
        client=client,
        organization_id=body.organization_id,
        settings=settings,
    )
    return schemas.TokenOut(access_token=issued.raw, expires_at=issued.row.expires_at)


@router.post("/auth/logout", status_code=204)
async def logout(session: SessionDep, caller: CurrentCaller) -> Response:
    await service.logout(session, caller)
    return Response(status_code=204)


@router.get("/me")
async def me(caller: CurrentCaller) -> schemas.MeOut:
    return _me(caller)


@router.patch("/me")
async def update_me(body: schemas.ProfileIn, session: SessionDep, caller: CurrentCaller) -> schemas.MeOut:
    await service.update_profile(session, caller, name=body.name, timezone=body.timezone)
    return _me(caller)


@router.post("/tokens", status_code=201)
async def create_token(
    body: schemas.PersonalTokenIn, session: SessionDep, caller: CurrentCaller
) -> schemas.PersonalTokenCreated:
    issued = await service.create_personal_token(session, caller, body.name)
    out = schemas.PersonalTokenOut.model_validate(issued.row)
    return schemas.PersonalTokenCreated(**out.model_dump(), token=issued.raw)


@router.get("/tokens")
async def list_tokens(session: SessionDep, caller: CurrentCaller) -> list[schemas.PersonalTokenOut]:
    return [schemas.PersonalTokenOut.model_validate(t) for t in await service.list_personal_tokens(session, caller)]


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> Response:
    await service.revoke_personal_token(session, caller, token_id)
    return Response(status_code=204)


@router.get("/members")
async def list_members(session: SessionDep, caller: CurrentCaller) -> list[schemas.MemberOut]:
    return [
        schemas.MemberOut(id=m.id, user=schemas.UserOut.model_validate(u), role=m.role)
        for m, u in await service.list_members(session, caller)
    ]


@router.patch("/members/{membership_id}", responses=problems(403, 409))
async def change_role(
    membership_id: uuid.UUID, body: schemas.RoleIn, session: SessionDep, caller: CurrentCaller
) -> schemas.MemberOut:
    member = await service.change_role(session, caller, membership_id, body.role)
    members = dict((m.id, u) for m, u in await service.list_members(session, caller))
    return schemas.MemberOut(id=member.id, user=schemas.UserOut.model_validate(members[member.id]), role=member.role)


@router.delete("/members/{membership_id}", status_code=204, responses=problems(403, 409))
async def remove_member(membership_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> Response:
    await service.remove_member(session, caller, membership_id)
    return Response(status_code=204)


@router.post("/invitations", status_code=201, responses=problems(403))
async def invite(body: schemas.InvitationIn, session: SessionDep, caller: CurrentCaller) -> schemas.InvitationOut:
    row, raw = await service.invite(session, caller, body.email, body.role)
    return schemas.InvitationOut(id=row.id, email=row.email, role=row.role, expires_at=row.expires_at, accept_token=raw)


@router.post("/invitations/accept", status_code=201, responses=problems(401, 404, 409))
async def accept(body: schemas.AcceptInvitationIn, tx: TransactionsDep) -> schemas.OrganizationOut:
    org = await service.accept_invitation(
        tx, token=body.token, password=body.password, name=body.name, timezone=body.timezone
    )
    return schemas.OrganizationOut.model_validate(org)
