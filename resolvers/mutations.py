"""The root ``Mutation`` type: inputs become msgspec models, services decide and write."""

from __future__ import annotations

import strawberry
from litestar.datastructures import UploadFile
from strawberry.file_uploads import Upload

from gateway.errors import ValidationFailed
from gateway.models import Credentials
from gateway.services.files import read_chunks
from gateway.validation import convert_input
from resolvers.context import Info
from schema import (
    AuthPayload,
    ContactInput,
    ContactReceipt,
    CreatePostInput,
    CreateProductInput,
    CreateUserInput,
    FileType,
    PostType,
    ProductType,
    ProfileType,
    UpdateProductInput,
    UpdateProfileInput,
    UpdateUserInput,
    UserType,
    user_of,
)
from schema.fields import mutation

__all__ = ["CONTACT_RECEIVED", "Mutation"]

CONTACT_RECEIVED = "Contact form submitted successfully"

# The record's ``version`` a change or deletion is based on (described in each mutation's
# description: an argument's own description would break the contracted one-line SDL).
ExpectedVersion = int | None
_IF_UNCHANGED = (
    " With `expectedVersion`, only if the record is still at that `version`: otherwise "
    "nothing is written and the answer is CONFLICT."
)


def _expected(version: int | None) -> frozenset[int] | None:
    """The versions a write accepts (None: any), as the services take them; an argument
    left out (UNSET: no default shows in the SDL) or null sets no condition."""
    return frozenset((version,)) if isinstance(version, int) else None


def _file_part(file: Upload) -> UploadFile:
    """The uploaded file, or bad input when the variable came as JSON, not as a file part."""
    if not isinstance(file, UploadFile):
        raise ValidationFailed("No file uploaded", ["file: must be a file part"])
    return file


def _declared_type(upload: UploadFile) -> str | None:
    """The part's ``Content-Type`` as sent, parameters and all (``UploadFile.content_type``
    drops them, and makes a missing one ``text/plain`` where REST stores octet-stream)."""
    return next((v for k, v in upload.headers.items() if k.lower() == "content-type"), None)


@strawberry.type
class Mutation:
    @mutation("Exchange email and password for a token.")
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        credentials = convert_input({"email": email, "password": password}, Credentials)
        result = await info.context.services.auth.login(credentials, client=info.context.client)
        return await AuthPayload.of(info, result)

    @mutation("Sign up, or (admin) create a user.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserType:
        context = info.context
        user = await context.services.users.create(
            context.actor, input.to_model(), client=context.client
        )
        return await user_of(info, user)

    @mutation("Change a user: themself, or anyone for an admin." + _IF_UNCHANGED)
    async def update_user(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateUserInput,
        expected_version: ExpectedVersion = strawberry.UNSET,
    ) -> UserType:
        services, actor = info.context.services, info.context.actor
        user = await services.users.update(actor, id, input.to_model(), _expected(expected_version))
        return await user_of(info, user)

    @mutation("Delete a user with their posts and profile." + _IF_UNCHANGED)
    async def delete_user(
        self, info: Info, id: strawberry.ID, expected_version: ExpectedVersion = strawberry.UNSET
    ) -> bool:
        await info.context.services.users.delete(
            info.context.actor, id, _expected(expected_version)
        )
        return True

    @mutation("Add a product (admin).")
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductType:
        services, actor = info.context.services, info.context.actor
        return ProductType.from_model(await services.products.create(actor, input.to_model()))

    @mutation("Change a product (admin)." + _IF_UNCHANGED)
    async def update_product(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateProductInput,
        expected_version: ExpectedVersion = strawberry.UNSET,
    ) -> ProductType:
        services, actor = info.context.services, info.context.actor
        product = await services.products.update(
            actor, id, input.to_model(), _expected(expected_version)
        )
        return ProductType.from_model(product)

    @mutation("Delete a product (admin)." + _IF_UNCHANGED)
    async def delete_product(
        self, info: Info, id: strawberry.ID, expected_version: ExpectedVersion = strawberry.UNSET
    ) -> bool:
        await info.context.services.products.delete(
            info.context.actor, id, _expected(expected_version)
        )
        return True

    @mutation("Write a post as the caller.")
    async def create_post(self, info: Info, input: CreatePostInput) -> PostType:
        post = await info.context.services.posts.create(info.context.actor, input.to_model())
        return PostType.from_model(post)

    @mutation("Create or change the caller's profile.")
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> ProfileType:
        services, actor = info.context.services, info.context.actor
        return ProfileType.from_model(await services.profiles.update(actor, input.to_model()))

    @mutation(
        "Store a file of any type at `path` (signed in), with the rules of `POST "
        "/api/files/PATH`; its type is the one its part declares. Send it as a GraphQL "
        "multipart request with the header `Apollo-Require-Preflight: true`."
    )
    async def upload_file(self, info: Info, file: Upload, path: str) -> FileType:
        upload = _file_part(file)
        try:
            meta = await info.context.services.files.save(
                info.context.actor, path, read_chunks(upload), content_type=_declared_type(upload)
            )
        finally:
            await upload.close()
        return FileType.from_model(meta)

    @mutation(
        "Store a JPEG, PNG or GIF (judged by its bytes) under a unique name in `uploads/`, "
        "as `POST /api/upload` does (signed in); sent like `uploadFile`."
    )
    async def upload_image(self, info: Info, file: Upload) -> FileType:
        upload = _file_part(file)
        try:
            meta = await info.context.services.files.upload_image(
                info.context.actor, upload.filename, read_chunks(upload)
            )
        finally:
            await upload.close()
        return FileType.from_model(meta)

    @mutation(
        "Delete a file: the caller's own, or any for an admin. With `expectedVersion`, only "
        "if the file at `path` is still that one (`CONFLICT` otherwise, nothing deleted)."
    )
    async def delete_file(self, info: Info, path: str, expected_version: str | None = None) -> bool:
        versions = None if expected_version is None else frozenset({expected_version})
        await info.context.services.files.delete(info.context.actor, path, versions)
        return True

    @mutation("Send the contact form (`?source=` on the URL is kept).")
    async def submit_contact(self, info: Info, input: ContactInput) -> ContactReceipt:
        request = info.context.request
        await info.context.services.contact.submit(
            input.to_model(),
            source=request.query_params.get("source"),
            user_agent=request.headers.get("user-agent"),
            session_id=request.cookies.get("sessionId"),
            client=info.context.client,
        )
        return ContactReceipt(success=True, message=CONTACT_RECEIVED)
