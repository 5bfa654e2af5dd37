"""msgspec shapes shared by both front doors: inputs validate once, outputs serialise once."""

from gateway.models.base import Input, Output
from gateway.models.contact import ContactSubmission, contact_problems
from gateway.models.files import FileMeta, StoredFile, UploadResult
from gateway.models.posts import PostCreate, PostOut, ProfileOut, ProfileUpdate
from gateway.models.products import Product, ProductCreate, ProductUpdate
from gateway.models.users import Credentials, Role, User, UserCreate, UserDetail, UserUpdate

__all__ = [
    "ContactSubmission",
    "Credentials",
    "FileMeta",
    "Input",
    "Output",
    "PostCreate",
    "PostOut",
    "Product",
    "ProductCreate",
    "ProductUpdate",
    "ProfileOut",
    "ProfileUpdate",
    "Role",
    "StoredFile",
    "UploadResult",
    "User",
    "UserCreate",
    "UserDetail",
    "UserUpdate",
    "contact_problems",
]
