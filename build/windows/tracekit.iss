; Inno Setup 6 script: the Tracekit installer for Windows (x64).
;
; Built by build\windows\build.ps1 after PyInstaller has made dist\Tracekit\:
;   ISCC.exe /DAppVersion=0.1.0 /DAppVersionNumeric=0.1.0.0 build\windows\tracekit.iss
; Output: dist\Tracekit-Setup-<AppVersion>.exe
;
; Installs per user by default (no admin rights; %LOCALAPPDATA%\Programs\Tracekit), or for all
; users when the user picks that in the first dialog. Start menu entry; desktop shortcut on
; request. The uninstaller removes the program and keeps the user's data (database, archive of
; original files, settings in %LOCALAPPDATA%\Tracekit) unless the user says yes to deleting it;
; a silent uninstall keeps it unless run with /DELETEDATA.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=1.2.3 tracekit.iss (build.ps1 does this)
#endif
#ifndef AppVersionNumeric
  #define AppVersionNumeric "0.0.0.0"
#endif
#define AppName "Tracekit"
#define AppExe "Tracekit.exe"
#define Root SourcePath + "..\.."

[Setup]
; AppId identifies the app for upgrades and the uninstaller: never change it.
AppId={{F53DD2E8-59A9-4E56-8DE6-F98840C3C76B}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Tracekit
VersionInfoVersion={#AppVersionNumeric}
VersionInfoProductName={#AppName}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=Tracekit-Setup-{#AppVersion}
SetupIconFile={#Root}\resources\icons\tracekit.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Close a running Tracekit before replacing its files.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An update replaces the bundled libraries whole, so no file of an older version lingers.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#Root}\dist\Tracekit\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Your training history in one place"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
function DataDir(): String;
begin
  { Where the app keeps the user's data: platformdirs' user_data_dir("Tracekit") }
  Result := ExpandConstant('{localappdata}\Tracekit');
end;

function CommandLineHas(const Switch: String): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), Switch) = 0 then
      Result := True;
end;

function ShouldDeleteData(): Boolean;
begin
  if UninstallSilent() then
    Result := CommandLineHas('/DELETEDATA')
  else
    Result := MsgBox('Also delete your Tracekit data?' + #13#10#13#10 +
      'This removes your activity database, the archive of your original activity files ' +
      'and your settings, in:' + #13#10 + DataDir() + #13#10#13#10 +
      'Choose No to keep them: installing Tracekit again picks them up.',
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DirExists(DataDir()) then
    if ShouldDeleteData() then
    begin
      DelTree(DataDir(), True, True, True);
      { The window's layout and preferences (QSettings "Tracekit"/"Tracekit") }
      RegDeleteKeyIncludingSubkeys(HKCU, 'Software\Tracekit');
    end;
end;
