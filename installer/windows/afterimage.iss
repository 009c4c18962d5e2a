; Inno Setup script for Afterimage (Windows, per-user install).
;
; Built by installer\windows\build.ps1, which first renders metadata.iss from pyproject.toml
; (python packaging\metadata.py render iss-defines) so the version and ids come from one place:
;   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
; Inputs: the PyInstaller bundle in build\pyinstaller\dist\afterimage\ (afterimage.exe for the
; command line, afterimage-gui.exe for the app and the service, _internal\).
; Output: build\windows\Afterimage-<version>-setup.exe

#include "metadata.iss"

#ifndef BundleDir
  #define BundleDir "..\..\build\pyinstaller\dist\afterimage"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\build\windows"
#endif

[Setup]
AppId={{#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#AppVersion}
VersionInfoDescription={#AppDescription}
; Per-user install: no administrator rights, into %LOCALAPPDATA%\Programs\Afterimage.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UninstallDisplayIcon={app}\{#AppGuiExeName}
UninstallDisplayName={#AppName}
SetupIconFile=..\..\assets\icons\afterimage.ico
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Close a running app/service before files are replaced (Restart Manager).
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "autostart"; Description: "Start the capture service when I sign in (you can change this later in the app)"; GroupDescription: "Capture:"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppGuiExeName}"; WorkingDir: "{app}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppGuiExeName}"; WorkingDir: "{app}"; Tasks: desktopicon

[Registry]
; The capture service at sign-in: the same executable with the `service` subcommand.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#RunValueName}"; ValueData: """{app}\{#AppGuiExeName}"" service"; Flags: uninsdeletevalue; Tasks: autostart

[Run]
Filename: "{app}\{#AppGuiExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Stop a running app or capture service so its files can be removed (the vault is untouched).
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM {#AppGuiExeName}"; Flags: runhidden; RunOnceId: "StopAfterimageGui"
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM {#AppExeName}"; Flags: runhidden; RunOnceId: "StopAfterimageCli"

[UninstallDelete]
; Only what the installed program itself wrote next to its files (bytecode caches).
Type: filesandordirs; Name: "{app}\_internal\__pycache__"

[Code]
// The vault (the user's encrypted memories, settings and logs) lives in
// %LOCALAPPDATA%\{#VaultDirRelative} (platformdirs), not in {app}. Uninstalling asks whether
// to keep it; the default answer, and the only one in a silent uninstall, is to keep it.
function VaultDir(): String;
begin
  Result := ExpandConstant('{localappdata}\{#VaultDirRelative}');
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Dir: String;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  Dir := VaultDir();
  if not DirExists(Dir) then
    exit;
  if UninstallSilent() then
    exit;
  if MsgBox('Keep your Afterimage vault?' + #13#10 + #13#10 +
            'Your memories, settings and logs are in:' + #13#10 + Dir + #13#10 + #13#10 +
            'Choose Yes to keep them (you can reinstall Afterimage later and unlock them with ' +
            'your passphrase). Choose No to delete them permanently.',
            mbConfirmation, MB_YESNO or MB_DEFBUTTON1) = IDYES then
    exit;
  if MsgBox('Delete every memory in ' + Dir + ' for good? This cannot be undone.',
            mbCriticalError, MB_YESNO or MB_DEFBUTTON2) <> IDYES then
    exit;
  if not DelTree(Dir, True, True, True) then
    MsgBox('Some files in ' + Dir + ' could not be deleted; remove the folder by hand.',
           mbError, MB_OK);
end;
