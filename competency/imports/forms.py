"""Forms for uploading an import file and confirming it."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.validators import DataRequired

from ..formutil import options

KINDS = [("org_units", _l("Org units")), ("employees", _l("Employees")), ("sales", _l("Annual sales"))]


class UploadForm(FlaskForm):
    kind = SelectField(_l("What the file holds"), choices=options(KINDS))
    file = FileField(_l("File (.xlsx, .xls, .csv or .txt)"), validators=[
        FileRequired(), FileAllowed(["csv", "txt", "tsv", "xlsx", "xls"], _l("Use an .xlsx, .xls, .csv or .txt file."))])
    submit = SubmitField(_l("Check the file"))


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Import"))
